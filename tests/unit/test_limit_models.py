"""Per-model settings: a model that takes only W, another stack level, or only a
station-wide profile is sent the shape it takes; a bad setting is a file:line error."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from zaspot.config import ConfigError, load
from zaspot.core.state import FleetState
from zaspot.limits.intents import Intent, compose
from zaspot.limits.owner import EvseLimit, LimitOwner
from zaspot.ocpp import commands_v16, commands_v201

CONFIG = """
limits:
  models:
    Wallbox X1:
      unit: W
      stack_level: 3
      station_wide: true
      read_back: false
"""


def _owner(tmp_path, model: str) -> LimitOwner:
    path = tmp_path / "zaspot.yaml"
    path.write_text(CONFIG)
    fleet = FleetState()
    fleet.station("CP1").model = model
    return LimitOwner(SimpleNamespace(fleet=fleet, config=load(path)), commands=None)


def test_a_model_gets_the_profile_shape_it_takes(tmp_path):
    owner = _owner(tmp_path, "Wallbox X1")
    limit = EvseLimit(("CP1", 1))
    limit.intents["operator:ops"] = Intent("operator:ops", 16.0)
    args = owner._profile(limit, compose(list(limit.intents.values()), 0.0))
    assert args == {"stack_level": 3, "station_wide": True, "kw": 11.04}  # 16 A x 230 V x 3
    _action, payload = commands_v16.set_power_limit(evse_id=1, **args)
    profile = payload["csChargingProfiles"]
    assert (payload["connectorId"], profile["stackLevel"], profile["chargingProfilePurpose"]) == \
        (0, 3, "ChargePointMaxProfile")
    assert profile["chargingSchedule"]["chargingRateUnit"] == "W"
    _, payload = commands_v201.set_power_limit(evse_id=1, **args)
    assert (payload["evseId"], payload["chargingProfile"]["chargingProfilePurpose"]) == (0, "ChargingStationMaxProfile")


def test_other_models_keep_the_default_shape(tmp_path):
    owner = _owner(tmp_path, "Other")
    limit = EvseLimit(("CP1", 1))
    limit.intents["operator:ops"] = Intent("operator:ops", 16.0)
    assert owner._profile(limit, compose(list(limit.intents.values()), 0.0)) == {"amps": 16.0}


def test_a_bad_model_setting_is_a_file_and_line_error(tmp_path):
    path = tmp_path / "zaspot.yaml"
    path.write_text("limits:\n  models:\n    X:\n      stack_level: 500\n")
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(err.value) == f"{path}:4: limits.models.X.stack_level: 500 is out of range (0 to 100)"
