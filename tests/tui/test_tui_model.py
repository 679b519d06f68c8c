"""The TUI's plain parts for #17, without Textual: names, reservations, the card form."""

from __future__ import annotations

import time

import pytest

from zaspot.tui.actions import BY_NAME, CARD_FORM, arguments, card_answers, target_args
from zaspot.tui.cells import cells
from zaspot.tui.model import FleetModel

NOW = 1_795_600_000.0


def fleet() -> FleetModel:
    model = FleetModel(lambda: NOW)
    connectors = [{"evse_id": e, "connector_id": c, "status": "Available"} for e, c in ((1, 1), (2, 1))]
    model.load([{"id": "CP-1", "name": "Lobby left", "site": "Hotel Praha", "notes": None, "ocpp_version": "2.0.1",
                 "connected": True, "state": {"online": True, "connectors": connectors}},
                {"id": "CP-2", "ocpp_version": "1.6", "connected": True}],
               reservations=[{"id": 9, "station_id": "CP-1", "evse_id": 2, "connector_id": None, "id_token": "T1",
                              "expires_at": NOW + 600, "status": "active"},
                             {"id": 8, "station_id": "CP-1", "evse_id": 1, "connector_id": 1, "id_token": "T0",
                              "expires_at": NOW - 1, "status": "expired"}])
    return model


def test_names_and_sites_are_shown_and_found():
    model = fleet()
    assert cells(model.stations["CP-1"], NOW)["name"].plain == "Lobby left · Hotel Praha"
    assert cells(model.stations["CP-2"], NOW)["name"].plain == "–"
    assert model.matching("hotel") == ["CP-1"] and model.matching("lobby praha") == ["CP-1"]
    assert model.stations["CP-1"].label == "CP-1 (Lobby left)"


def test_a_rename_shows_without_a_reload():
    model = fleet()
    model.take_dirty()
    model.apply({"type": "station_updated", "station_id": "CP-2", "name": "Garage", "site": "Depot Nord", "notes": ""})
    assert model.take_dirty() == {"CP-2"}
    assert cells(model.stations["CP-2"], NOW)["name"].plain == "Garage · Depot Nord"
    assert model.matching("depot") == ["CP-2"]


def test_a_reservation_holds_its_connector_until_it_ends():
    model = fleet()
    st = model.stations["CP-1"]
    assert cells(st, NOW)["connectors"].plain == "1:avail 2/1:resv"  # the EVSE-wide one holds 2/1
    assert model.matching("reserved") == ["CP-1"]
    assert cells(st, NOW + 601)["connectors"].plain == "1:avail 2/1:avail"  # past its expiry
    model.apply({"type": "reservation_changed", "station_id": "CP-1", "reservation_id": 9, "evse_id": 2,
                 "connector_id": None, "id_token": "T1", "status": "cancelled", "expires_at": NOW + 600})
    assert cells(st, NOW)["connectors"].plain == "1:avail 2/1:avail"
    model.apply({"type": "reservation_changed", "station_id": "CP-1", "reservation_id": 10, "evse_id": 1,
                 "connector_id": 1, "id_token": "T2", "status": "active", "expires_at": NOW + 60})
    assert cells(st, NOW)["connectors"].plain == "1:resv 2/1:avail"
    assert st.reservations_at(NOW)[0].place("2.0.1") == "EVSE 1 connector 1"


def test_the_card_form_reads_an_expiry_and_leaves_empty_fields_out():
    answers = {**card_answers(None), "id_token": " 04A1B2C3 ", "expiry": "2027-03-31", "driver": "Eva Novak"}
    args = arguments(CARD_FORM, answers)
    assert args["id_token"] == "04A1B2C3" and args["status"] == "Accepted" and args["driver"] == "Eva Novak"
    assert args["group"] is None and args["note"] is None
    assert time.localtime(args["expiry"])[:5] == (2027, 3, 31, 23, 59)
    with pytest.raises(ValueError, match="Expires"):
        arguments(CARD_FORM, {**answers, "expiry": "31.3.2027"})
    with pytest.raises(ValueError, match=r"Card id.*required"):
        arguments(CARD_FORM, {**answers, "id_token": ""})
    # changing a card: the form starts from what it is
    again = card_answers({"id_token": "X", "status": "Blocked", "expiry": args["expiry"], "group": "FLEET"})
    assert (again["status"], again["expiry"], again["group"]) == ("Blocked", "2027-03-31 23:59", "FLEET")


def test_each_station_command_names_its_station_as_the_api_does():
    assert target_args(BY_NAME["reserve"], "CP-1") == {"station_id": "CP-1"}
    assert target_args(BY_NAME["update_firmware"], "CP-1") == {"station_ids": ["CP-1"]}
    assert target_args(BY_NAME["cancel_reservation"], "CP-1") == {}
    with pytest.raises(ValueError, match="minutes: must be above 0"):
        arguments(BY_NAME["reserve"], {"evse_id": "1", "id_token": "T", "minutes": "0"})
