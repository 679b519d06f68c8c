"""Fleet health: how reliable each charging port has been, not only what is wrong now.

    outages      each port's outages as intervals with their cause, from the event log
    exclusions   time not counted against uptime (maintenance windows: config and API)
    intervals    interval arithmetic the others share
    uptime       uptime per port, station and site per day and month (the NEVI formula)
    faults       fault analytics: codes, MTBF and MTTR, repeat offenders, module trips
    loadtemp     temperature against current drawn, folded per port and day
    drift        the drift test on °C per ampere (an EWMA control chart): TemperatureDrift
    report       the monthly report's figures; text, csv and html renderers print them
    service      ctx.health: runs the above and keeps a snapshot for /metrics and the TUI
"""
