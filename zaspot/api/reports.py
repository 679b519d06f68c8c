"""Operator API: reports/*: fleet health (zaspot.health). SKELETON, filled by #19 part 2.

    reports/monthly     {month?}                      -> the monthly report (zaspot.health.report)
    reports/availability {start?, end?, days?, station_id?} -> uptime per port, station and site
    reports/outages     {start?, end?, station_id?}   -> outage intervals with their cause
    reports/faults      {month? | start?, end?}       -> fault analytics
    reports/temperature {station_id?}                 -> temperature per ampere and the drift test
    reports/snapshot    {}                            -> each station's recent health (the TUI's view)
    reports/exclusions  {}                            -> maintenance windows and other excluded time
    reports/exclusions/add    {start, end, reason, station_id?, evse_id?, connector_id?} -> {"id"}
    reports/exclusions/remove {id}                    -> {"removed": bool}
"""

from __future__ import annotations
