"""Warehouse benchmark: bulk load of simulated contacts into chDB, and report latency beside pandas.

    python bench/warehouse.py [--contacts 10000000] [--days 30] [--queues 20] [--agents 500]

1. Generates `--contacts` CDR rows (seeded, vectorised: arrivals over `--days` with a
   day-time peak, exponential waits, 88 % answered / 10 % abandoned / 2 % timed out,
   log-normal talk time) and the queue leg of each, and loads both into a fresh embedded
   warehouse (chDB) through the warehouse port's column-wise `insert_df`, in chunks (the
   legs' materialized view adds them into 15-minute tallies as they go in): rows/s
   ingested.
2. Times the queue-interval report (15-minute intervals, METRICS.md definitions) for one
   day and for the whole month — read from the view's tallies, and over the month also
   from the legs (a period that is not on quarter hours) — and the same report computed by
   pandas on the same rows held in memory, in the same run; they must agree on the counts.
3. Generates one day of agent state changes for `--agents` agents (available, reserved,
   handling, wrap-up, not ready cycles), writes them through the warehouse sink (which
   closes the state intervals that the agent tallies' view adds up): changes/s, and times
   the agent report (`agent_performance`, from the tallies) beside pandas for that day;
   the state times must agree.

Numbers depend on the machine and its load; the header prints both. Tests never assert
times (tests/integration/test_bench_warehouse.py runs it small).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from analytics.reports.queue_intervals import queue_intervals
from analytics.warehouse import Warehouse, open_warehouse

T0 = pd.Timestamp("2026-01-01T00:00:00Z")
DAY_MS = 86_400_000
SL_MS, SHORT_MS = 20_000, 5_000


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[Any, float]:
    """The result of `fn` and its best wall time over `repeat` runs (ms)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, (time.perf_counter() - start) * 1000)
    return out, best


def contacts_chunk(
    rng: np.random.Generator, start: int, n: int, days: int, queues: int, agents: int
) -> pd.DataFrame:
    day = rng.integers(0, days, n)
    # arrivals peak around 11:00 and 15:00
    hour = np.clip(rng.normal(rng.choice([11.0, 15.0], n), 2.5), 0, 23.999)
    arrived = day * DAY_MS + (hour * 3_600_000).astype(np.int64)
    queued = arrived + rng.integers(5_000, 60_000, n)
    wait = rng.exponential(25_000, n).astype(np.int64)
    u = rng.random(n)
    outcome = np.where(u < 0.88, "answered", np.where(u < 0.98, "abandoned", "timed_out"))
    answered = outcome == "answered"
    talk = np.where(answered, rng.lognormal(12.0, 0.6, n).astype(np.int64), 0)
    hold = np.where(answered & (rng.random(n) < 0.15), rng.integers(5_000, 60_000, n), 0)
    wrap = np.where(answered, rng.integers(5_000, 45_000, n), 0)
    ended = queued + wait + talk + hold
    finished = ended + wrap

    def ts(ms: np.ndarray, mask: np.ndarray | None = None) -> pd.Series:
        s = pd.Series(pd.to_datetime(ms + T0.value // 1_000_000, unit="ms", utc=True))
        return s if mask is None else s.where(mask)

    ids = np.arange(start, start + n)
    return pd.DataFrame(
        {
            "tenant": "bench",
            "contact_id": pd.Series(ids).map("b{:09d}".format),
            "queue_id": pd.Series(rng.integers(0, queues, n)).map("q{:02d}".format),
            "channel": "voice",
            "ani": "",
            "dnis": "",
            "priority": 0,
            "arrived_at": ts(arrived),
            "queued_at": ts(queued),
            "answered_at": ts(queued + wait, answered),
            "ended_at": ts(ended),
            "finished_at": ts(finished),
            "outcome": outcome,
            "end_party": "caller",
            "agent_id": np.where(answered, pd.Series(rng.integers(0, agents, n)).map("a{:04d}".format), ""),
            "offers": answered.astype(np.int32),
            "wait_ms": wait,
            "talk_ms": talk,
            "hold_ms": hold,
            "holds": (hold > 0).astype(np.int32),
            "wrap_up_ms": wrap,
            "disposition": np.where(answered, "resolved", ""),
            "event_id": pd.Series(ids).map("e{:09d}".format),
        }
    )


def legs_chunk(contacts: pd.DataFrame) -> pd.DataFrame:
    """The one queue leg of each generated contact (it waited in one queue)."""
    answered = contacts.outcome == "answered"
    left = contacts.queued_at + pd.to_timedelta(contacts.wait_ms, unit="ms")
    return pd.DataFrame(
        {
            "tenant": contacts.tenant,
            "contact_id": contacts.contact_id,
            "leg": np.uint16(1),
            "queue_id": contacts.queue_id,
            "channel": contacts.channel,
            "priority": contacts.priority,
            "queued_at": contacts.queued_at,
            "left_at": left,
            "outcome": contacts.outcome,
            "wait_ms": contacts.wait_ms,
            "agent_id": contacts.agent_id,
            "talk_ms": contacts.talk_ms,
            "hold_ms": contacts.hold_ms,
            "holds": contacts.holds,
            "wrap_up_ms": contacts.wrap_up_ms.where(answered, 0),
            "to_queue": "",
            "event_id": "l" + contacts.event_id,
        }
    )


def pandas_queue_intervals(df: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """METRICS.md counts per queue and 15-minute interval, as queue_intervals computes them."""
    d = df[(df.queued_at >= start) & (df.queued_at < end)]
    short = (d.outcome == "abandoned") & (d.wait_ms <= SHORT_MS)
    answered = d.outcome == "answered"
    g = pd.DataFrame(
        {
            "queue_id": d.queue_id,
            "interval": d.queued_at.dt.floor("15min"),
            "offered": ~short,
            "answered": answered,
            "abandoned": (d.outcome == "abandoned") & ~short,
            "answered_in_sl": answered & (d.wait_ms <= SL_MS),
            "answer_wait_ms": d.wait_ms.where(answered, 0),
        }
    ).groupby(["queue_id", "interval"])
    out = g.sum()
    out["asa_s"] = out.answer_wait_ms / out.answered / 1000
    out["service_level"] = out.answered_in_sl / out.offered
    return out.reset_index()


def agent_day(rng: np.random.Generator, agents: int, day_start_ms: int) -> pd.DataFrame:
    """One day of state changes per agent: available -> reserved -> handling -> wrap-up,
    with a not-ready break now and then; logged in 08:00 to 16:00."""
    cycle = ("available", "reserved", "handling", "wrap_up")
    mean_ms = {"available": 30_000, "reserved": 6_000, "handling": 240_000, "wrap_up": 25_000}
    rows: list[tuple[str, int, str, str, str]] = []
    for a in range(agents):
        agent = f"a{a:04d}"
        t = day_start_ms + 8 * 3_600_000 + int(rng.integers(0, 600_000))
        end = day_start_ms + 16 * 3_600_000
        previous = "logged_out"
        rows.append((agent, t, "not_ready", previous, "login"))
        previous, t = "not_ready", t + 60_000
        while t < end:
            if rng.random() < 0.05:
                rows.append((agent, t, "not_ready", previous, "break"))
                previous, t = "not_ready", t + int(rng.integers(300_000, 900_000))
                continue
            for state in cycle:
                if t >= end:
                    break
                rows.append((agent, t, state, previous, ""))
                previous, t = state, t + max(1_000, int(rng.exponential(mean_ms[state])))
        rows.append((agent, end, "logged_out", previous, ""))
    frame = pd.DataFrame(rows, columns=["agent_id", "at_ms", "state", "previous", "reason"])
    frame["at"] = pd.to_datetime(frame.at_ms + T0.value // 1_000_000, unit="ms", utc=True)
    return frame


def pandas_agent_states(states: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    s = states.sort_values(["agent_id", "at"], kind="stable")
    nxt = s.groupby("agent_id")["at"].shift(-1).fillna(end)
    begin, stop = s["at"].clip(lower=start, upper=end), nxt.clip(lower=start, upper=end)
    secs = (stop - begin).dt.total_seconds()
    return pd.DataFrame({"agent_id": s.agent_id, "state": s.state, "s": secs}).pivot_table(
        index="agent_id", columns="state", values="s", aggfunc="sum", fill_value=0.0
    )


def _load_states(w: Warehouse, states: pd.DataFrame, batch: int = 5_000) -> float:
    """The state changes through the warehouse sink, as the pipeline writes them (it also
    closes the state intervals the agent tallies' view adds up); returns the seconds taken."""
    from analytics.sink import WarehouseSink
    from schemas.agent import AgentStateChanged
    from schemas.envelope import Envelope, Message
    from streams.ports import Record

    sink, base, taken = WarehouseSink(w), T0.value // 1_000_000, 0.0
    rows = list(states[["agent_id", "at_ms", "state", "previous", "reason"]].itertuples(index=False))
    for first in range(0, len(rows), batch):
        records = []
        for offset, (agent, at_ms, state, previous, reason) in enumerate(rows[first : first + batch], first):
            presence = state if state in ("not_ready", "logged_out") else "available"
            body = AgentStateChanged(agent, state, previous, reason, "", presence)
            message = Message(Envelope(f"s{offset:09d}", "bench", base + int(at_ms), agent), body)
            records.append((Record("cc.agent-events", 0, offset, b"bench", b""), message))
        t = time.perf_counter()
        sink.write(records)
        taken += time.perf_counter() - t
    return taken


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--contacts", type=int, default=10_000_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--queues", type=int, default=20)
    p.add_argument("--agents", type=int, default=500)
    p.add_argument("--chunk", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if min(args.contacts, args.days, args.queues, args.agents, args.chunk) <= 0:
        p.error("every size must be > 0")
    print(
        f"warehouse benchmark · {platform.platform()} · CPython {platform.python_version()} · "
        f"{os.cpu_count()} CPUs · load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{args.contacts:,} contacts over {args.days} days · {args.queues} queues · "
        f"{args.agents} agents · chDB"
    )
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="ccx-bench-wh-") as tmp:
        w = open_warehouse(f"chdb://{tmp}")
        try:
            frames, load_s = [], 0.0
            bar = tqdm(total=args.contacts, unit="row", desc="load", file=sys.stderr)
            for start in range(0, args.contacts, args.chunk):
                chunk = contacts_chunk(
                    rng, start, min(args.chunk, args.contacts - start), args.days, args.queues, args.agents
                )
                legs = legs_chunk(chunk)
                t = time.perf_counter()
                w.insert_df("contacts", chunk)
                w.insert_df("contact_legs", legs)
                load_s += time.perf_counter() - t
                frames.append(chunk)
                bar.update(len(chunk))
            bar.close()
            df = pd.concat(frames, ignore_index=True)
            del frames
            print(
                f"ingest: {args.contacts:,} contacts + {args.contacts:,} legs in {load_s:.1f} s = "
                f"{args.contacts / load_s:,.0f} contacts/s (insert_df, chunks of {args.chunk:,}; "
                "the legs' view fills the 15-minute tallies)"
            )
            tallies = w.query_rows("SELECT count() FROM queue_interval_tallies")[0][0]
            print(f"tallies: {tallies:,} rows (before background merges) for {args.contacts:,} legs")
            day = T0 + pd.Timedelta(days=args.days // 2)
            month = (T0, T0 + pd.Timedelta(days=args.days))
            off = pd.Timedelta(milliseconds=1)  # off the quarter hours: the report reads the legs
            windows = {
                "one day": (day, day + pd.Timedelta(days=1), day, day + pd.Timedelta(days=1)),
                "month": (*month, *month),
                "month, from legs": (month[0] - off, month[1] - off, month[0] - off, month[1] - off),
            }
            print(f"{'report':<34}{'rows out':>10}{'ClickHouse ms':>15}{'pandas ms':>12}{'ratio':>8}  agree")
            for label, (lo, hi, plo, phi) in windows.items():
                ch, ch_ms = _timed(
                    lambda lo=lo, hi=hi: queue_intervals(
                        w, tenant="bench", start=lo.to_pydatetime(), end=hi.to_pydatetime(), interval_s=900
                    )
                )
                pdf, pd_ms = _timed(lambda lo=plo, hi=phi: pandas_queue_intervals(df, lo, hi))
                agree = (
                    len(ch) == len(pdf)
                    and int(ch.offered.sum()) == int(pdf.offered.sum())
                    and int(ch.answered_in_sl.sum()) == int(pdf.answered_in_sl.sum())
                )
                print(
                    f"{'queue intervals, ' + label:<34}{len(ch):>10,}{ch_ms:>15,.1f}{pd_ms:>12,.1f}"
                    f"{pd_ms / ch_ms:>8.2f}  {'yes' if agree else 'NO'}"
                )
                if not agree:
                    return 1
            states = agent_day(rng, args.agents, (day - T0).value // 1_000_000)
            load_s = _load_states(w, states)
            print(
                f"agent states: {len(states):,} changes through the sink in {load_s:.1f} s = "
                f"{len(states) / load_s:,.0f} changes/s (batches of 5,000; intervals and tallies included)"
            )
            from analytics.reports.agents import agent_performance

            ch, ch_ms = _timed(
                lambda: agent_performance(
                    w,
                    tenant="bench",
                    start=day.to_pydatetime(),
                    end=(day + pd.Timedelta(days=1)).to_pydatetime(),
                )
            )
            pv, pd_ms = _timed(lambda: pandas_agent_states(states, day, day + pd.Timedelta(days=1)))
            mine = ch.set_index("agent_id")["handling_s"].sort_index()
            agree = np.allclose(mine.to_numpy(), pv["handling"].sort_index().to_numpy(), atol=0.01)
            label = f"agent report, one day ({len(states):,} states)"
            print(
                f"{label:<34}{len(ch):>10,}{ch_ms:>15,.1f}{pd_ms:>12,.1f}{pd_ms / ch_ms:>8.2f}  "
                f"{'yes' if agree else 'NO'}"
            )
            print(
                "ratio = pandas time / ClickHouse time (> 1: the warehouse is faster); "
                "pandas times exclude loading the rows into memory"
            )
            return 0 if agree else 1
        finally:
            w.close()


if __name__ == "__main__":
    sys.exit(main())
