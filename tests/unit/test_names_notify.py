"""Notifications name the station: "Lobby left (CP-1)" where the message said "CP-1"."""

from __future__ import annotations

from zaspot.notify import Notification
from zaspot.notify.names import with_names

NAMES = {"CP-1": ("Lobby left", "Garage P1"), "CP-10": ("", ""), "CP-2": ("", "Depot")}


def test_a_named_station_is_called_by_its_name_with_its_id() -> None:
    n = with_names(Notification("CP-1 has been offline for 5 minutes", title="Station offline"), NAMES)
    assert n.message == "Lobby left (CP-1) has been offline for 5 minutes"
    assert n.data == {"station_id": "CP-1", "station_name": "Lobby left", "site": "Garage P1"}
    assert with_names(Notification("CP-1: module 2 tripped"), NAMES).message == "Lobby left (CP-1): module 2 tripped"


def test_other_ids_and_a_name_already_written_are_left_alone() -> None:
    assert with_names(Notification("CP-10 is full"), NAMES).message == "CP-10 is full"
    assert with_names(Notification("XCP-1 is not ours"), NAMES).message == "XCP-1 is not ours"
    n = with_names(Notification("Lobby left (CP-1) is back"), NAMES)
    assert n.message == "Lobby left (CP-1) is back"


def test_station_name_and_site_fields_are_filled_for_the_station_it_is_about() -> None:
    n = with_names(Notification("{station_name} is offline", title="{site}"), NAMES, "CP-1")
    assert (n.message, n.title) == ("Lobby left is offline", "Garage P1")
    unnamed = with_names(Notification("{station_name} at {site} is full"), NAMES, "CP-2")
    assert unnamed.message == "CP-2 at Depot is full"
    # several stations and no station_id: nothing to fill, each named one still named
    both = with_names(Notification("CP-1 and CP-10 are down; {station_name}"), NAMES)
    assert both.message == "Lobby left (CP-1) and CP-10 are down; {station_name}" and both.data is None


def test_data_given_with_the_notification_wins() -> None:
    n = with_names(Notification("CP-1 full", data={"site": "mine", "spaces": 0}), NAMES)
    assert n.data == {"station_id": "CP-1", "station_name": "Lobby left", "site": "mine", "spaces": 0}
