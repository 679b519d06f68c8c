import re
from datetime import UTC, datetime

from zaspot.ocpp import clock


def test_now_iso_is_utc_with_milliseconds():
    text = clock.now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 5


def test_now_iso_follows_the_clock_across_seconds(monkeypatch):
    for t, expected in ((1_700_000_000.25, "2023-11-14T22:13:20.250Z"),
                        (1_700_000_000.999, "2023-11-14T22:13:20.999Z"),
                        (1_700_000_001.0, "2023-11-14T22:13:21.000Z"),
                        (1_700_086_400.5, "2023-11-15T22:13:20.500Z")):
        monkeypatch.setattr(clock.time, "time", lambda t=t: t)
        assert clock.now_iso() == expected
