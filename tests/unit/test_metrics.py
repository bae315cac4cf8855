"""The metric definitions of METRICS.md (processors.metrics)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors import metrics
from processors.metrics import QueueCounts, Thresholds

C = QueueCounts(
    offered=10,
    answered=6,
    abandoned=3,
    short_abandoned=2,
    waiting=1,
    answered_in_sl=4,
    abandoned_in_sl=2,
    answer_wait_ms=60_000,
    abandon_wait_ms=45_000,
    longest_wait_ms=40_000,
    handled=5,
    talk_ms=500_000,
    hold_ms=50_000,
    held=2,
    wrap_ms=100_000,
)


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("abandons_ignored", 4 / 7),
        ("abandons_against", 4 / 10),
        ("abandons_for", 6 / 10),
        ("answered_only", 4 / 6),
    ],
)
def test_service_level_variants(variant: str, expected: float) -> None:
    assert metrics.service_level(C, variant) == pytest.approx(expected)


@pytest.mark.parametrize("variant", metrics.SL_VARIANTS)
def test_service_level_is_none_without_data(variant: str) -> None:
    assert metrics.service_level(QueueCounts(), variant) is None


def test_unknown_variant_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown service-level variant"):
        metrics.service_level(C, "best_case")
    with pytest.raises(ValueError):
        Thresholds(sl_variant="best_case")


def test_time_metrics() -> None:
    assert metrics.asa(C) == pytest.approx(10.0)
    assert metrics.avg_abandon_time(C) == pytest.approx(15.0)
    assert metrics.att(C) == pytest.approx(100.0)
    assert metrics.avg_hold_time(C) == pytest.approx(25.0)
    assert metrics.acw(C) == pytest.approx(20.0)
    assert metrics.aht(C) == pytest.approx(130.0)
    assert metrics.abandon_rate(C) == pytest.approx(0.3)
    assert metrics.answer_rate(C) == pytest.approx(0.6)


def test_zero_denominators_are_no_data() -> None:
    z = QueueCounts()
    for f in (
        metrics.asa,
        metrics.avg_abandon_time,
        metrics.att,
        metrics.avg_hold_time,
        metrics.acw,
        metrics.aht,
        metrics.abandon_rate,
        metrics.answer_rate,
    ):
        assert f(z) is None, f.__name__
    assert metrics.occupancy(0, 0, 0, 0) is None
    assert metrics.utilization(0, 0, 0, 0, 0) is None


def test_agent_ratios() -> None:
    assert metrics.occupancy(30, 10, 50, 10) == pytest.approx(0.4)
    assert metrics.utilization(30, 10, 50, 10, 200) == pytest.approx(0.5)


def test_add_sums_counts_and_keeps_the_longest_wait() -> None:
    total = C + QueueCounts(offered=2, answered=2, longest_wait_ms=90_000, answer_wait_ms=1_000)
    assert (total.offered, total.answered, total.answer_wait_ms) == (12, 8, 61_000)
    assert total.longest_wait_ms == 90_000
    assert (C + QueueCounts()) == C


def test_conservation() -> None:
    assert C.conserved()  # 10 = 6 + 3 + 1
    assert not QueueCounts(offered=1).conserved()


def test_classification_thresholds_are_inclusive() -> None:
    t = Thresholds(sl_threshold_s=20, short_abandon_s=5)
    assert metrics.is_short_abandon(5_000, t) and not metrics.is_short_abandon(5_001, t)
    assert metrics.within_threshold(20_000, t) and not metrics.within_threshold(20_001, t)
    assert metrics.interval_start(1_000_000, 900) == 900_000


def test_summarize_names_every_rate() -> None:
    out = metrics.summarize(C, Thresholds())
    assert out["service_level"] == pytest.approx(0.4)
    assert out["longest_wait_s"] == 40.0
    assert out["offered"] == 10
    assert metrics.summarize(QueueCounts(), Thresholds())["asa_s"] is None


# --- Tally: the threshold-free sums the wallboard and the warehouse keep -------------------

_LEGS = st.lists(
    st.tuples(
        st.sampled_from(metrics.LEG_OUTCOMES),
        st.integers(0, 400_000),  # wait ms, around every threshold boundary
        st.integers(0, 900_000),
        st.integers(0, 60_000),
        st.integers(0, 3),
        st.integers(0, 120_000),
    ),
    max_size=60,
)


def _reference(legs: list[tuple[str, int, int, int, int, int]], t: Thresholds) -> QueueCounts:
    """METRICS.md applied to each leg directly, without histograms."""
    short = [w for o, w, *_ in legs if o == "abandoned" and w <= t.short_abandon_s * 1000]
    abandons = [w for o, w, *_ in legs if o == "abandoned" and w > t.short_abandon_s * 1000]
    answered = [leg for leg in legs if leg[0] == "answered"]
    count = lambda outcome: sum(o == outcome for o, *_ in legs)  # noqa: E731
    return QueueCounts(
        offered=len(legs) - len(short) - count("closed") - count("full"),
        answered=len(answered),
        abandoned=len(abandons),
        short_abandoned=len(short),
        overflowed=count("overflowed"),
        timed_out=count("timed_out"),
        callback=count("callback"),
        answered_in_sl=sum(w <= t.sl_threshold_s * 1000 for _, w, *_ in answered),
        abandoned_in_sl=sum(w <= t.sl_threshold_s * 1000 for w in abandons),
        answer_wait_ms=sum(w for _, w, *_ in answered),
        abandon_wait_ms=sum(abandons),
        longest_wait_ms=max((w for _, w, *_ in legs), default=0),
        handled=len(answered),
        talk_ms=sum(leg[2] for leg in answered),
        hold_ms=sum(leg[3] for leg in answered),
        held=sum(leg[4] > 0 for leg in answered),
        wrap_ms=sum(leg[5] for leg in answered),
    )


@given(
    legs=_LEGS, sl=st.integers(0, 400), short=st.integers(0, 60), variant=st.sampled_from(metrics.SL_VARIANTS)
)
def test_a_tally_classifies_exactly_as_metrics_md_for_any_threshold(
    legs: list[tuple[str, int, int, int, int, int]], sl: int, short: int, variant: str
) -> None:
    """The histogram by whole seconds (rounded up) loses nothing: under any thresholds the
    tally's counts equal the definitions applied leg by leg, and conservation holds."""
    t = Thresholds(sl, short, variant)
    tally = sum((metrics.Tally.of_leg(*leg) for leg in legs), metrics.Tally())
    counts = tally.counts(t)
    assert counts == _reference(legs, t)
    assert counts.conserved()


@given(legs=_LEGS, cut=st.integers(0, 60))
def test_tallies_add_in_any_grouping(legs: list[tuple[str, int, int, int, int, int]], cut: int) -> None:
    """Interval tallies roll up (15 min -> hour -> day) by addition, in any order."""
    parts = [metrics.Tally.of_leg(*leg) for leg in legs]
    left = sum(parts[:cut], metrics.Tally()) + sum(parts[cut:], metrics.Tally())
    assert left == sum(reversed(parts), metrics.Tally())


def test_live_steps_sum_to_the_leg() -> None:
    """What the wallboard adds as a contact enters, leaves and finishes handling is what the
    warehouse adds for the finished leg."""
    live = metrics.Tally.entering() + metrics.Tally.leaving("answered", 12_300)
    live = live + metrics.Tally.handling(60_000, 5_000, 1, 20_000)
    assert live == metrics.Tally.of_leg("answered", 12_300, 60_000, 5_000, 1, 20_000)
    assert metrics.wait_bucket(20_000) == 20 and metrics.wait_bucket(20_001) == 21
    assert metrics.wait_bucket(0) == 0 and metrics.wait_bucket(-5) == 0
    with pytest.raises(ValueError, match="outcome must be one of"):
        metrics.Tally.leaving("completed", 0)
