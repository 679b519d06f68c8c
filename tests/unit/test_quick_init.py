"""Sample and MeterSample are built by a faster __init__ (core/quick_init.py) that behaves
as the dataclass's own: same signature, defaults and errors, still frozen, equal and
hashable as before, and `dataclasses.replace` and `to_dict` work on them."""

from __future__ import annotations

import dataclasses
import inspect
import time
from dataclasses import dataclass, field

import pytest

from zaspot.core.events import MeterSample, Sample
from zaspot.core.quick_init import quick_init


@dataclass(frozen=True, slots=True)
class Plain:
    a: int
    b: str = "x"
    c: list[int] = field(default_factory=list)
    d: float = field(default=1.5, kw_only=True)


@dataclass(frozen=True, slots=True)
class Quick:
    a: int
    b: str = "x"
    c: list[int] = field(default_factory=list)
    d: float = field(default=1.5, kw_only=True)


quick_init(Quick)


def test_the_signature_and_defaults_are_the_dataclasses() -> None:
    def shape(cls: type) -> list[tuple[str, object, object]]:  # a factory's default is each one's own sentinel
        return [(p.name, p.kind, p.default if p.name != "c" else "factory")
                for p in inspect.signature(cls).parameters.values()]

    assert shape(Quick) == shape(Plain)
    q, p = Quick(1), Plain(1)
    assert (q.a, q.b, q.c, q.d) == (p.a, p.b, p.c, p.d) == (1, "x", [], 1.5)
    assert Quick(1).c is not Quick(1).c  # a new list each time, as the factory gives
    assert Quick(2, "y", [3], d=4.0) == Quick(a=2, b="y", c=[3], d=4.0)
    for bad in ((), (1, "y", [], 4.0)):
        with pytest.raises(TypeError):
            Quick(*bad)
        with pytest.raises(TypeError):
            Plain(*bad)


def test_samples_stay_frozen_equal_and_hashable() -> None:
    s = Sample("Energy.Active.Import.Register", 12.0, "Wh", timestamp=5.0)
    assert (s.phase, s.location, s.context, s.timestamp) == (None, None, None, 5.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.value = 13.0  # type: ignore[misc]
    assert s == Sample("Energy.Active.Import.Register", 12.0, "Wh", None, None, None, 5.0)
    assert len({s, Sample("Energy.Active.Import.Register", 12.0, "Wh", timestamp=5.0)}) == 1
    assert dataclasses.replace(s, value=13.0).value == 13.0


def test_a_meter_sample_has_its_time_and_no_seq_unless_given() -> None:
    before = time.time()
    e = MeterSample("CP1", 1, 2, None, (Sample("Power.Active.Import", 7.0, "W"),))
    assert before <= e.time <= time.time() and e.seq is None
    assert MeterSample("CP1", 1, 2, "tx", (), time=3.0, seq=9).to_dict() == {
        "type": "meter_sample", "station_id": "CP1", "time": 3.0, "seq": 9, "evse_id": 1, "connector_id": 2,
        "transaction_id": "tx", "samples": []}
    with pytest.raises(TypeError):
        MeterSample("CP1", 1, 2, None, (), 3.0)  # type: ignore[misc]  (time is keyword-only)


def test_only_frozen_slotted_dataclasses_are_taken() -> None:
    @dataclass(slots=True)
    class Open:
        a: int

    with pytest.raises(TypeError):
        quick_init(Open)
