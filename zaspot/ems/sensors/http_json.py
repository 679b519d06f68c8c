"""`platform: http_json`: poll a meter, inverter or battery that answers JSON over HTTP
(Shelly, Tasmota, an inverter's local API, Home Assistant's REST API, ...).

    sensors:
      site_meter:
        platform: http_json
        url: http://192.168.1.20/rpc/EM.GetStatus?id=0
        power: total_act_power              # a dotted path into the answer
        currents: [a_current, b_current, c_current]
      battery: {platform: http_json, url: ..., soc: battery.soc, power: battery.power}

`scale` multiplies power values (0.001 for mW, 1000 for kW); `invert: true` flips a meter
that counts export as positive. Redirects are followed; HTTP_PROXY / HTTPS_PROXY / NO_PROXY
are honoured; an error status or an answer that is not JSON is reported in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zaspot.core.http_client import HttpClient
from zaspot.ems.fetch import pick
from zaspot.ems.sensors.base import MeterReading
from zaspot.ems.view import Battery


@dataclass
class HttpJsonConfig:
    url: str
    power: str = ""  # path to watts ("" = the whole answer is the number)
    currents: list[str] = field(default_factory=list)  # paths to amps per phase (site_meter)
    soc: str = ""  # path to % (battery)
    scale: float = 1.0
    invert: bool = False
    timeout: float = 5.0
    headers: dict[str, str] = field(default_factory=dict)
    capacity_wh: float = 0.0  # battery facts the device may not report
    max_charge_w: float = 0.0
    max_discharge_w: float = 0.0


class HttpJsonSensor:
    def __init__(self, config: HttpJsonConfig, kind: str) -> None:
        if not config.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {config.url!r}")
        self.config, self.kind = config, kind
        self.http = HttpClient(config.timeout)

    async def read(self) -> Any:
        cfg = self.config
        data = (await self.http.get(cfg.url, accept="application/json", headers=cfg.headers)).json()
        sign = -1.0 if cfg.invert else 1.0
        power = sign * float(pick(data, cfg.power)) * cfg.scale
        if self.kind == "site_meter":
            currents = tuple(sign * float(pick(data, p)) for p in cfg.currents) or None
            return MeterReading(power, currents)
        if self.kind == "battery":
            return Battery(float(pick(data, cfg.soc)), power, cfg.capacity_wh, cfg.max_charge_w, cfg.max_discharge_w)
        return power

    async def close(self) -> None:
        await self.http.aclose()


def factory(kind: str):
    return lambda config: HttpJsonSensor(config, kind)
