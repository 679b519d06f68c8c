"""Time not counted against uptime: maintenance windows from the config and the API.

An exclusion covers the whole site (no station), one station (no evse), one EVSE's ports
(no connector) or one port. It excludes the outage time that falls inside it
(NEVI's T_excluded); time a port was up inside it stays up time.

The config's windows (`health.maintenance`) are written at each start with the source
"config", replacing the last start's, so a window taken out of the config is gone after a
restart; the API's (source "api") are the operator's and stay until removed.
"""

from __future__ import annotations

from typing import Any

from zaspot.store.health_outages import exclusion_row


def config_rows(config: Any) -> list[tuple]:
    """health_exclusions rows for the config's windows: one per station named, or one for
    every station."""
    rows = []
    for window in config.maintenance:
        start, end = window.span(config.zone)
        for station_id in window.stations or [None]:
            rows.append(exclusion_row(start, end, window.reason, station_id, window.evse_id, window.connector_id,
                                      "config"))
    return rows


async def load_config(store: Any, config: Any) -> None:
    """The config's maintenance windows into the store (source 'config'), replacing the last start's."""
    await store.replace_config_exclusions(config_rows(config))


def applies(exclusion: dict[str, Any], station_id: str, evse_id: int, connector_id: int) -> bool:
    """Does this exclusion cover this port?"""
    return ((exclusion["station_id"] is None or exclusion["station_id"] == station_id)
            and (exclusion["evse_id"] is None or exclusion["evse_id"] == evse_id)
            and (exclusion["connector_id"] is None or exclusion["connector_id"] == connector_id))
