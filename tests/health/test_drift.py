"""The drift test's arithmetic: a day's °C per ampere from its sums, and the EWMA control
chart over days (a steady noisy connector is never flagged, a scripted rise is flagged
within a few days, and the flag goes when the slope comes back)."""

from __future__ import annotations

import random

from zaspot.health.config import DriftConfig
from zaspot.health.drift import chart, day_fit

CONFIG = DriftConfig()  # the defaults: 7 baseline days, λ 0.2, L 3, 12 samples, 2 A spread


def day_sums(slope: float, rng: random.Random, pairs: int = 24, noise_c: float = 0.5,
             amps: tuple[float, float] = (6.0, 32.0)) -> dict:
    """One day's sums of (current, temperature) pairs: T = 25 + slope·I + noise, readings
    rounded to 0.1 as stations send them."""
    n = si = st = sii = sit = stt = 0.0
    for _ in range(pairs):
        i = round(rng.uniform(*amps), 1)
        t = round(25 + slope * i + rng.gauss(0, noise_c), 1)
        n, si, st, sii, sit, stt = n + 1, si + i, st + t, sii + i * i, sit + i * t, stt + t * t
    return {"n": int(n), "sum_i": si, "sum_t": st, "sum_ii": sii, "sum_it": sit, "sum_tt": stt}


def day_slope(sums: dict, config: DriftConfig) -> float | None:
    fit = day_fit(sums, config)
    return None if fit is None else fit[0]


def daily_fits(per_day: list[float], seed: int, **day) -> list[tuple[str, float, float]]:
    rng = random.Random(seed)
    out = []
    for k, slope in enumerate(per_day):
        fit = day_fit(day_sums(slope, rng, **day), CONFIG)
        assert fit is not None
        out.append((f"day{k:03d}", *fit))
    return out


def test_a_days_slope_is_its_temperature_per_ampere():
    rng = random.Random(1)
    assert abs(day_slope(day_sums(0.30, rng, pairs=200), CONFIG) - 0.30) < 0.01
    assert abs(day_slope(day_sums(0.45, rng, pairs=200), CONFIG) - 0.45) < 0.01


def test_a_day_with_too_few_pairs_or_one_current_says_nothing():
    rng = random.Random(2)
    assert day_slope(day_sums(0.3, rng, pairs=11), CONFIG) is None  # min_samples 12
    assert day_slope(day_sums(0.3, rng, pairs=48, amps=(31.0, 32.0)), CONFIG) is None  # spread < 2 A
    assert day_slope(day_sums(0.3, rng, pairs=48, amps=(16.0, 16.0)), CONFIG) is None  # no spread at all
    assert day_slope(day_sums(0.3, rng, pairs=12), CONFIG) is not None


def test_a_steady_noisy_connector_is_never_flagged():
    for day in ({"pairs": 24, "noise_c": 0.5}, {"pairs": 48, "noise_c": 1.0}):
        for seed in range(25):
            c = chart(daily_fits([0.30] * 120, seed, **day), CONFIG)
            assert c["baseline"] is not None and abs(c["baseline"] - 0.30) < 0.03
            assert all(d["ewma"] <= d["limit"] for d in c["days"][CONFIG.baseline_days:]), (day, seed)
            assert not c["flagged"] and abs(c["rise_pct"]) < 10


def test_a_rise_per_ampere_is_flagged_within_a_few_days_and_clears_when_it_is_back():
    steady, ramp = [0.30] * 21, [0.30 + 0.15 * k / 14 for k in range(1, 15)]  # 0.30 -> 0.45 °C/A in two weeks
    for seed in range(10):
        c = chart(daily_fits(steady + ramp, seed), CONFIG)
        flagged_from = next(k for k, d in enumerate(c["days"]) if d["ewma"] is not None and d["ewma"] > d["limit"])
        assert 21 <= flagged_from <= 21 + 8, seed  # a rise of 5-6 %/day is seen within about a week
        assert c["flagged"] and c["current"] > 0.38 and c["rise_pct"] > 25
        # Repaired: the slope is back at 0.30; the EWMA comes back under the limit in days.
        repaired = chart(daily_fits(steady + ramp + [0.30] * 20, seed), CONFIG)
        assert not repaired["flagged"]


def test_the_chart_waits_for_its_baseline():
    c = chart(daily_fits([0.3] * 7, 3), CONFIG)  # the baseline days only: nothing to judge yet
    assert c["baseline"] is not None and c["current"] is None and not c["flagged"]
    assert [d["ewma"] for d in c["days"]] == [None] * 7
    short = chart(daily_fits([0.3] * 4, 3), CONFIG)
    assert short["baseline"] is None and not short["flagged"] and len(short["days"]) == 4


def limit_width(c: dict) -> list[float]:
    return [d["limit"] - c["baseline"] for d in c["days"][CONFIG.baseline_days:]]


def test_the_limit_widens_to_its_asymptote():
    c = chart(daily_fits([0.30] * 40, 4), CONFIG)
    widths = limit_width(c)
    assert widths == sorted(widths) and widths[0] < widths[-1]
    # L·σ·sqrt(λ/(2−λ) + 1/m), σ at its floor (10 % of the baseline: this noise is smaller)
    assert abs(widths[-1] - 3 * 0.10 * c["baseline"] * (0.2 / 1.8 + 1 / 7) ** 0.5) < 1e-3


def test_noisy_days_widen_the_limit_by_their_own_standard_error():
    quiet = limit_width(chart(daily_fits([0.30] * 30, 5), CONFIG))[-1]
    noisy = limit_width(chart(daily_fits([0.30] * 30, 5, pairs=12, noise_c=2.0), CONFIG))[-1]
    assert noisy > 2 * quiet
