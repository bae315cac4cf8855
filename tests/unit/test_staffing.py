"""Erlang B, C and A (analytics.staffing), the staffing plan and `ccx staffing`.

Reference values are published worked examples and tables; each test names its source.
Properties (hypothesis) cover what the references cannot: monotonicity, the Erlang-A ->
Erlang-C limit, the stationary distribution summed by brute force, and stability with
thousands of agents or trunks.
"""

from __future__ import annotations

import itertools
import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.staffing import (
    StaffingInputError,
    erlang_b,
    erlang_c,
    evaluate,
    offered_traffic,
    required_agents,
    scheduled_agents,
    traffic_for,
    trunks_for,
)
from analytics.staffing_plan import staffing_plan
from ccx.cli import main

# --- published reference values -----------------------------------------------------------

# The Call Centre Helper worked example ("Erlang C Formula - Made Simple With an Easy Worked
# Example", https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls
# per 30 minutes, AHT 180 s, 80 % answered in 20 s, max occupancy 85 %, shrinkage 30 %.
# Its numbers as printed by the CRAN package ErlangC 0.1.0 README
# (https://stat.ethz.ch/CRAN/web/packages/ErlangC/readme/README.html): with 14 agents
# P(wait) 0.1741319, SL 0.88835, ASA 7.83593701177724 s, occupancy 0.7142857; with 11
# agents P(wait) 0.6821182, SL 0.3896138; 14 agents required. The article's (and pyworkforce's
# test suite, rodrigo-arenas/pyworkforce pyworkforce/queuing/tests/test_erlang.py) answer
# after 30 % shrinkage: 20 agents.
CCH = {"calls": 100, "interval_s": 1800, "aht_s": 180}


def test_erlang_c_call_centre_helper_example() -> None:
    traffic = offered_traffic(**CCH)
    assert traffic == 10.0
    at14 = evaluate(14, traffic, 180, 20)
    assert at14.prob_wait == pytest.approx(0.1741319, abs=5e-8)
    assert at14.service_level == pytest.approx(0.88835, abs=5e-6)
    assert at14.asa_s == pytest.approx(7.83593701177724, rel=1e-12)
    assert at14.occupancy == pytest.approx(0.7142857, abs=5e-8)
    at11 = evaluate(11, traffic, 180, 20)
    assert at11.prob_wait == pytest.approx(0.6821182, abs=5e-8)
    assert at11.service_level == pytest.approx(0.3896138, abs=5e-8)
    found = required_agents(traffic, 180, target_sl=0.8, threshold_s=20, max_occupancy=0.85)
    assert found == at14
    assert scheduled_agents(found.agents, 0.3) == 20


def test_occupancy_cap_and_shrinkage_pyworkforce_example() -> None:
    # pyworkforce test_over_occupancy_erlangc (same example, max occupancy 70 %): 15 raw
    # agents (10 / 0.7 = 14.3), 22 scheduled, SL 0.941, occupancy 0.667, P(wait) 0.102.
    found = required_agents(10.0, 180, target_sl=0.8, threshold_s=20, max_occupancy=0.7)
    assert found.agents == 15 and scheduled_agents(15, 0.3) == 22
    assert (round(found.service_level or 0, 3), round(found.occupancy or 0, 3)) == (0.941, 0.667)
    assert round(found.prob_wait, 3) == 0.102


def test_erlang_b_westbay_examples() -> None:
    # Westbay's Erlang calculator manual (https://erlang.com/calculatormanual/
    # howmuchtrafficcanatrunkgrouphandle.htm): 15 lines at 1 % blocking take 8.108 erlangs.
    assert traffic_for(15, 0.01) == pytest.approx(8.108, abs=5e-4)
    assert erlang_b(15, 8.108) == pytest.approx(0.01, abs=1e-5)
    # erlang.com forum, "Trunk Engineering" (Westbay webmaster, 5 Dec 2001): 1200 CCS
    # = 33.333 erlangs at 1 % blocking needs 45 lines.
    assert trunks_for(1200 / 36, 0.01) == 45
    # Wolfram Mathematica's ErlangB documentation: 30 lines at 25 erlangs block
    # "approximately 0.05".
    assert erlang_b(30, 25.0) == pytest.approx(0.05, abs=0.005)


@pytest.mark.parametrize(
    ("trunks", "blocking", "erlangs"),
    [(3, 0.01, 0.5), (5, 0.01, 1.4), (5, 0.02, 1.7), (5, 0.05, 2.2), (6, 0.0001, 0.7),
     (7, 0.005, 2.2), (8, 0.001, 2.1), (8, 0.05, 4.5), (9, 0.01, 3.8), (9, 0.05, 5.4)],
)  # fmt: skip
def test_erlang_b_table(trunks: int, blocking: float, erlangs: float) -> None:
    # "Carrier Grade Voice Over IP", 2nd ed., Appendix A, Table of Erlang B
    # (https://www.globalspec.com/reference/55139/203279/appendix-a-table-of-erlang-b),
    # erlangs to one decimal per channels and blocking.
    assert round(traffic_for(trunks, blocking), 1) == erlangs


def test_erlang_a_pyworkforce_example() -> None:
    # pyworkforce's ErlangA (rodrigo-arenas/pyworkforce, pyworkforce/queuing/tests/
    # test_abandonment.py), computed from the truncated stationary distribution and the
    # tagged caller's chain by uniformization, i.e. without this module's closed forms:
    # 100 calls / 30 min, AHT 3 min, mean patience 5 min, 14 agents, T = 20 s:
    # P(wait) 0.14526, P(abandon) 0.013984, occupancy 0.704297, mean wait of all callers
    # 0.069919 min, answered within T / offered 0.916792.
    stats = evaluate(14, 10.0, 180, 20, patience_s=300)
    assert round(stats.prob_wait, 5) == 0.14526
    assert round(stats.prob_abandon, 6) == 0.013984
    assert round(stats.occupancy or 0, 6) == 0.704297
    assert round((stats.avg_wait_s or 0) / 60, 6) == 0.069919
    assert round(stats.service_level or 0, 6) == 0.916792
    # Mandelbaum & Zeltyn, "The Palm/Erlang-A Queue" (2005), section 4.6: with exponential
    # patience P(Ab) = theta E[W].
    assert stats.prob_abandon == pytest.approx((stats.avg_wait_s or 0) / 300, rel=1e-12)


# --- properties -------------------------------------------------------------------------

traffics = st.floats(min_value=0.01, max_value=1500, allow_nan=False)
patiences = st.floats(min_value=1, max_value=3600)
ahts = st.floats(min_value=10, max_value=1200)


@settings(max_examples=60, deadline=None)
@given(traffics, st.integers(min_value=1, max_value=2000))
def test_erlang_b_falls_with_trunks_and_erlang_c_is_above_it(traffic: float, n: int) -> None:
    b, b_more = erlang_b(n, traffic), erlang_b(n + 1, traffic)
    assert 0 <= b_more <= b <= 1
    c = erlang_c(n, traffic)
    assert b <= c <= 1 and (c == 1) == (n <= traffic)


@settings(max_examples=40, deadline=None)
@given(traffics, ahts, st.floats(min_value=0, max_value=120), st.one_of(st.none(), patiences))
def test_service_level_rises_with_agents(
    traffic: float, aht: float, t: float, patience: float | None
) -> None:
    start = max(1, math.floor(traffic) - 3)
    levels = [evaluate(n, traffic, aht, t, patience).service_level for n in range(start, start + 12)]
    assert all(level is not None and 0 <= level <= 1 for level in levels)
    assert all(b >= a - 1e-10 for a, b in itertools.pairwise(levels))


@settings(max_examples=40, deadline=None)
@given(traffics, ahts, st.floats(min_value=0, max_value=120), st.floats(min_value=1.05, max_value=1.5))
def test_erlang_a_with_endless_patience_is_erlang_c(
    traffic: float, aht: float, t: float, spare: float
) -> None:
    n = math.ceil(traffic * spare) + 1
    c, a = evaluate(n, traffic, aht, t), evaluate(n, traffic, aht, t, patience_s=aht * 1e9)
    assert a.prob_abandon < 1e-6
    assert (a.prob_wait, a.service_level) == pytest.approx((c.prob_wait, c.service_level), abs=1e-6)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-4, abs=1e-6)
    assert evaluate(n, traffic, aht, t, patience_s=math.inf) == c


def _brute_force(n: int, traffic: float, aht: float, patience: float) -> tuple[float, float]:
    """P(wait) and P(abandon) from the birth-death chain's stationary distribution."""
    lam, mu, theta = traffic / aht, 1 / aht, 1 / patience
    p, k, total = [1.0], 0, 1.0
    while k <= n or p[-1] > 1e-17 * total:
        k += 1
        p.append(p[-1] * lam / (min(k, n) * mu + max(k - n, 0) * theta))
        total += p[-1]
        if p[-1] > 1e250:  # rescale before the heavy states overflow
            p, total = [v * 1e-250 for v in p], total * 1e-250
    total = math.fsum(p)
    waiting = sum(p[n:]) / total
    queue = sum((i - n) * v for i, v in enumerate(p) if i > n) / total
    return waiting, theta * queue / lam  # abandonment rate / arrival rate


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.1, max_value=40), st.integers(1, 50), ahts, patiences)
def test_erlang_a_matches_the_stationary_distribution(
    traffic: float, n: int, aht: float, patience: float
) -> None:
    stats = evaluate(n, traffic, aht, 20, patience_s=patience)
    waiting, abandon = _brute_force(n, traffic, aht, patience)
    assert stats.prob_wait == pytest.approx(waiting, rel=1e-9, abs=1e-12)
    assert stats.prob_abandon == pytest.approx(abandon, rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=1, max_value=2500), st.integers(1, 2000), patiences, ahts)
def test_stable_with_thousands_of_agents(traffic: float, n: int, patience: float, aht: float) -> None:
    for stats in (evaluate(n, traffic, aht, 20), evaluate(n, traffic, aht, 20, patience_s=patience)):
        values = [stats.service_level, stats.prob_wait, stats.occupancy, stats.prob_abandon]
        assert all(v is not None and math.isfinite(v) and 0 <= v <= 1 for v in values)
        assert stats.asa_s is None or (math.isfinite(stats.asa_s) and stats.asa_s >= 0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3000), st.floats(min_value=1e-4, max_value=0.5))
def test_erlang_b_inverses(trunks: int, blocking: float) -> None:
    offered = traffic_for(trunks, blocking)
    assert erlang_b(trunks, offered) == pytest.approx(blocking, rel=1e-9)
    n = trunks_for(offered * 0.999, blocking)
    assert n <= trunks and erlang_b(n, offered * 0.999) <= blocking
    assert n == 1 or erlang_b(n - 1, offered * 0.999) > blocking


def test_large_traffic_is_stable() -> None:
    assert 0 < erlang_b(5000, 4800.0) < 1e-3
    n = trunks_for(20_000.0, 0.01)  # 1 % blocking: a little less than one trunk per erlang
    assert 19_000 < n < 20_000 and erlang_b(n, 20_000.0) <= 0.01 < erlang_b(n - 1, 20_000.0)
    found = required_agents(1950.0, 180, target_sl=0.9, threshold_s=20, patience_s=120)
    assert found.agents < 1950 and found.service_level is not None and found.service_level >= 0.9


def test_required_agents_meets_every_target_with_the_fewest() -> None:
    for patience in (None, 60.0):
        found = required_agents(25.0, 240, target_sl=0.9, threshold_s=15, max_asa_s=5, patience_s=patience)
        fewer = evaluate(found.agents - 1, 25.0, 240, 15, patience)
        assert found.service_level is not None and found.service_level >= 0.9
        assert found.asa_s is not None and found.asa_s <= 5
        assert (fewer.service_level or 0) < 0.9 or fewer.asa_s is None or fewer.asa_s > 5


def test_no_calls_need_no_agents() -> None:
    found = required_agents(0.0, 180)
    assert (found.agents, found.service_level, found.occupancy) == (0, None, None)
    assert evaluate(3, 0.0, 180).service_level is None  # no calls: no data, not 0 % or 100 %


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: offered_traffic(-1, 1800, 180), "calls"),
        (lambda: offered_traffic(10, 0, 180), "interval_s"),
        (lambda: offered_traffic(10, 1800, math.nan), "aht_s"),
        (lambda: evaluate(0, 10.0, 180), "agents"),
        (lambda: evaluate(12, 10.0, 180, -1), "threshold_s"),
        (lambda: evaluate(12, 10.0, 180, 20, patience_s=0), "patience_s"),
        (lambda: required_agents(10.0, 180, target_sl=1.0), "target_sl"),
        (lambda: required_agents(10.0, 180, target_sl=0), "target_sl"),
        (lambda: required_agents(10.0, 180, max_occupancy=0), "max_occupancy"),
        (lambda: required_agents(10.0, 180, max_asa_s=0), "max_asa_s"),
        (lambda: trunks_for(10.0, 1.0), "blocking"),
        (lambda: trunks_for(-1.0, 0.01), "traffic_erlangs"),
        (lambda: traffic_for(0, 0.01), "trunks"),
        (lambda: scheduled_agents(10, 1.0), "shrinkage"),
    ],
)
def test_bad_input_names_the_argument(call: object, argument: str) -> None:
    with pytest.raises(StaffingInputError, match=f"^{argument} ") as raised:
        call()  # type: ignore[operator]
    assert raised.value.argument == argument and isinstance(raised.value, ValueError)


# --- the plan -----------------------------------------------------------------------------


def test_plan_applies_erlang_shrinkage_and_the_occupancy_cap() -> None:
    forecast = pd.DataFrame(
        {
            "weekday": ["Mon", "Mon", "Tue"],
            "interval_start": ["08:00", "08:30", "08:00"],
            "calls": [100.0, 0.0, 400.0],
            "aht_s": [180.0, float("nan"), 300.0],
        }
    )
    plan = staffing_plan(forecast, interval_s=1800, shrinkage=0.3, max_occupancy=0.85)
    assert plan[["weekday", "interval_start"]].values.tolist() == [
        ["Mon", "08:00"],
        ["Mon", "08:30"],
        ["Tue", "08:00"],
    ]
    first = plan.iloc[0]
    assert (first.raw_agents, first.scheduled_agents, first.traffic_erlangs) == (14, 20, 10.0)
    assert first.service_level == pytest.approx(0.88835, abs=5e-6)
    assert (plan.iloc[1].raw_agents, plan.iloc[1].scheduled_agents) == (0, 0)
    assert math.isnan(plan.iloc[1].service_level)
    busy = plan.iloc[2]  # 66.7 erlangs: the cap (66.7 / 0.85 = 78.4) binds before the SL
    assert busy.raw_agents == 79 and busy.occupancy <= 0.85
    assert busy.scheduled_agents == math.ceil(79 / 0.7)
    with_patience = staffing_plan(forecast, interval_s=1800, patience_s=120, max_occupancy=1.0)
    assert (with_patience.raw_agents <= plan.raw_agents).all()
    assert (with_patience.prob_abandon[with_patience.calls > 0] > 0).all()


# --- the CLI, with the commands of the issue ----------------------------------------------


def ccx(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_cli_erlang_c_finds_the_agents() -> None:
    code, out = ccx(
        "staffing", "erlang-c", "--calls", "100", "--interval-s", "1800", "--aht-s", "180",
        "--target-sl", "0.8", "--threshold-s", "20", "--json",
    )  # fmt: skip
    assert code == 0
    got = json.loads(out)
    assert {"agents", "service_level", "prob_wait", "asa_s", "occupancy"} <= got.keys()
    assert got["agents"] == 14 and got["sl_variant"] == "abandons_against"
    assert got["service_level"] == pytest.approx(0.88835, abs=5e-6)
    assert got["prob_wait"] == pytest.approx(0.1741319, abs=5e-8)
    assert got["asa_s"] == pytest.approx(7.83593701177724) and got["occupancy"] == pytest.approx(0.7142857)


def test_cli_erlang_c_evaluates_given_agents_and_prints_a_table() -> None:
    code, out = ccx(
        "staffing",
        "erlang-c",
        "--calls",
        "100",
        "--interval-s",
        "1800",
        "--aht-s",
        "180",
        "--agents",
        "11",
        "--json",
    )
    got = json.loads(out)
    assert code == 0 and got["agents"] == 11 and got["target_sl"] is None
    assert (got["prob_wait"], got["service_level"]) == pytest.approx((0.6821182, 0.3896138), abs=5e-8)
    code, out = ccx("staffing", "erlang-c", "--calls", "100", "--interval-s", "1800", "--aht-s", "180")
    lines = dict(line.strip().split(": ", 1) for line in out.splitlines())
    assert code == 0 and lines["agents"] == "14" and lines["service_level"] == "0.8884"


def test_cli_erlang_a() -> None:
    code, out = ccx(
        "staffing", "erlang-a", "--calls", "100", "--interval-s", "1800", "--aht-s", "180",
        "--patience-s", "300", "--agents", "14", "--json",
    )  # fmt: skip
    got = json.loads(out)
    assert code == 0 and got["model"] == "erlang_a" and got["patience_s"] == 300
    assert round(got["service_level"], 6) == 0.916792 and round(got["prob_abandon"], 6) == 0.013984


def test_cli_erlang_b_trunks_and_traffic() -> None:
    code, out = ccx("staffing", "erlang-b", "--traffic-erlangs", "33.333", "--blocking", "0.01", "--json")
    got = json.loads(out)
    assert code == 0 and got["trunks"] == 45 and got["blocking"] <= 0.01
    code, out = ccx("staffing", "erlang-b", "--trunks", "15", "--blocking", "0.01", "--json")
    got = json.loads(out)
    assert code == 0 and got["traffic_offered_erlangs"] == pytest.approx(8.108, abs=5e-4)
    assert got["traffic_carried_erlangs"] == pytest.approx(got["traffic_offered_erlangs"] * 0.99)
    code, out = ccx("staffing", "erlang-b", "--trunks", "30", "--traffic-erlangs", "25")
    assert code == 0 and "blocking: 0.0526" in out


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["erlang-c", "--calls", "-5", "--interval-s", "1800", "--aht-s", "180"], "--calls"),
        (["erlang-c", "--calls", "5", "--interval-s", "0", "--aht-s", "180"], "--interval-s"),
        (
            ["erlang-c", "--calls", "5", "--interval-s", "1800", "--aht-s", "180", "--target-sl", "1.5"],
            "--target-sl",
        ),
        (["erlang-c", "--calls", "5", "--interval-s", "1800", "--aht-s", "180", "--agents", "0"], "--agents"),
        (["erlang-c", "--calls", "many", "--interval-s", "1800", "--aht-s", "180"], "--calls"),
        (
            ["erlang-a", "--calls", "5", "--interval-s", "1800", "--aht-s", "180", "--patience-s", "-1"],
            "--patience-s",
        ),
        (["erlang-b", "--traffic-erlangs", "10", "--blocking", "2"], "--blocking"),
        (["erlang-b", "--trunks", "0", "--blocking", "0.01"], "--trunks"),
        (["erlang-b", "--trunks", "10"], "--blocking"),
        (["plan", "--data-dir", "/nonexistent", "--shrinkage", "1"], "--shrinkage"),
        (["plan", "--data-dir", "/nonexistent", "--interval", "7m"], "--interval"),
        (["plan", "--data-dir", "/nonexistent", "--max-occupancy", "0"], "--max-occupancy"),
    ],
)
def test_cli_bad_input_is_a_usage_error_naming_the_option(args: list[str], option: str) -> None:
    code, out = ccx("staffing", *args)
    assert code == 2 and option in out and "Traceback" not in out


def test_cli_plan_without_a_warehouse(tmp_path: object) -> None:
    code, out = ccx("staffing", "plan", "--data-dir", str(tmp_path))
    assert code == 1 and "no warehouse" in out
