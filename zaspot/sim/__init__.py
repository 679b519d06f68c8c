"""Station simulator: OCPP 1.6J and 2.0.1 stations with scripted faults.

    from zaspot.sim import SimStation, Fleet
    st = SimStation("CP1", "ws://127.0.0.1:9000/ocpp", protocol="2.0.1", kind="dc", modules=4)
    await st.start(); await st.wait_booted()
    tx = await st.start_transaction(1)
    await st.run_scenario("overheat", connector_id=1)
    st.received   # [(action, payload), ...] calls the central system sent
    await st.stop()
"""
from .faults import SCENARIOS
from .fleet import Fleet
from .rpc import CallError
from .station import SimStation

__all__ = ["SCENARIOS", "CallError", "Fleet", "SimStation"]
