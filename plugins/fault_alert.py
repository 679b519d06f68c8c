"""A notification when a connector reports a fault."""

from dataclasses import dataclass, field

from zaspot.core.events import StatusChanged
from zaspot.core.plugins import PluginContext

NAME = "fault_alert"  # its section is plugins.config.fault_alert


@dataclass
class FaultAlertConfig:
    statuses: list[str] = field(default_factory=lambda: ["Faulted"])
    target: str | None = None  # a notifier's name; none = every notifier


CONFIG = FaultAlertConfig


async def setup(api: PluginContext, config: FaultAlertConfig) -> None:
    async def on_status(event: StatusChanged) -> None:
        if event.status not in config.statuses:
            return
        # 1.6's connector 2 is "2"; 2.0.1's EVSE 2, connector 1 is "2/1"
        place = f"{event.evse_id}/{event.connector_id}" if event.evse_id != event.connector_id else str(event.evse_id)
        # 2.0.1 sends no error code (the status is all there is): no reason in brackets then
        reason = f" ({event.error_code})" if event.error_code not in (None, "NoError", event.status) else ""
        await api.notify(
            f"{event.station_id} connector {place}: {event.status}{reason}",
            title="Connector fault",
            target=config.target,
            key=f"{event.station_id}:{place}:fault",  # one rate limit per connector
        )

    api.listen("status_changed", on_status)  # unsubscribed for you on stop
