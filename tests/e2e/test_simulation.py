"""End to end on both backends: `ccx simulate` an hour for 20 agents and 2 queues on the
embedded default and on a real Kafka broker, then check the log, the CDRs and the warehouse
report against independent computations, and the two backends against each other: the same
seed gives the same summary and the same records on every topic.

The CLI runs in a subprocess, as a user runs it (and because chDB allows one warehouse
directory per process). Nothing is mocked.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccx.settings import Settings
from streams import topics
from tests.e2e.events import log_frame, log_records

pytestmark = pytest.mark.slow

SIM_ARGS = ["--agents", "20", "--queues", "2", "--rate", "300/h", "--duration", "1h", "--seed", "7"]
BACKENDS = ("embedded", "kafka")


def ccx(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccx.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, **(env or {})},
    )


class Run:
    """One simulation: its data dir, summary, and how to reach its log (settings, CCX_* env)."""

    def __init__(self, data: Path, summary: dict, settings: Settings, env: dict[str, str]) -> None:
        self.data, self.summary, self.settings, self.env = data, summary, settings, env

    def ccx(self, *args: str) -> subprocess.CompletedProcess[str]:
        return ccx(*args, "--data-dir", str(self.data), env=self.env)


@pytest.fixture(scope="module")
def simulations(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[str], Run]:
    """Runs the simulation once per backend, on demand (the Kafka broker starts only if asked)."""
    done: dict[str, Run] = {}

    def get(backend: str) -> Run:
        if backend not in done:
            data = tmp_path_factory.mktemp(f"sim-{backend}")
            env: dict[str, str] = {}
            flags: list[str] = []
            if backend == "kafka":
                bootstrap = request.getfixturevalue("kafka_broker")
                namespace = f"e2e-{uuid.uuid4().hex[:8]}"
                env = {"CCX_BACKEND": "kafka", "CCX_BOOTSTRAP": bootstrap, "CCX_NAMESPACE": namespace}
                flags = ["--backend", "kafka", "--bootstrap", bootstrap, "--namespace", namespace]
            sim = ccx("simulate", "--data-dir", str(data), *flags, *SIM_ARGS, "--json")
            assert sim.returncode == 0, sim.stderr
            settings = Settings.from_env(data_dir=data, backend=backend, **_kafka(env))
            done[backend] = Run(data, json.loads(sim.stdout), settings, env)
        return done[backend]

    return get


def _kafka(env: dict[str, str]) -> dict[str, str | None]:
    return {"bootstrap": env.get("CCX_BOOTSTRAP"), "namespace": env.get("CCX_NAMESPACE")}


@pytest.fixture(scope="module", params=BACKENDS)
def run(request: pytest.FixtureRequest, simulations: Callable[[str], Run]) -> Run:
    return simulations(request.param)


@pytest.fixture(scope="module")
def contact_events(run: Run) -> pd.DataFrame:
    return log_frame(run.settings, ("cc.contact-events",))


def test_both_backends_give_the_same_summary_and_the_same_records(simulations: Callable[[str], Run]) -> None:
    embedded, kafka = simulations("embedded"), simulations("kafka")
    assert kafka.summary == embedded.summary
    names = tuple(t.name for t in topics.ALL)
    on_kafka, on_embedded = log_records(kafka.settings, names), log_records(embedded.settings, names)
    written = embedded.summary["commands"] + embedded.summary["events"]
    assert written > 8_000 and sum(map(len, on_embedded.values())) == written
    assert on_kafka == on_embedded


def test_summary_has_the_promised_fields_and_real_traffic(run: Run) -> None:
    summary = run.summary
    for key in ("contacts", "offered", "answered", "abandoned", "waiting", "events"):
        assert key in summary, key
    # 300/h for an hour: a Poisson count within 5 sigma of 300
    assert 300 - 5 * 300**0.5 < summary["contacts"] < 300 + 5 * 300**0.5
    assert summary["answered"] > 0 and summary["events"] > summary["contacts"] * 5


def test_conservation_per_queue(run: Run) -> None:
    summary = run.summary
    assert len(summary["queues"]) == 2
    for q in summary["queues"]:
        resolved = q["answered"] + q["abandoned"] + q["overflowed"] + q["timed_out"] + q["callback"]
        assert q["offered"] == resolved + q["waiting"], q
    assert summary["offered"] == sum(q["offered"] for q in summary["queues"])
    assert summary["contacts"] == summary["offered"] + summary["short_abandoned"]


def test_no_agent_ever_holds_two_contacts(contact_events: pd.DataFrame) -> None:
    busy: dict[str, str] = {}
    for e in contact_events.sort_values("offset").itertuples():
        if e.type == "ContactOffered":
            assert e.agent_id not in busy, (
                f"{e.agent_id} offered {e.contact_id} while holding {busy.get(e.agent_id)}"
            )
            busy[e.agent_id] = e.contact_id
        elif e.type in ("OfferDeclined", "OfferTimedOut") or (
            e.type == "ContactEnded" and e.reason == "abandoned"
        ):
            if isinstance(e.agent_id, str) and busy.get(e.agent_id) == e.contact_id:
                del busy[e.agent_id]
            else:
                for agent, contact in list(busy.items()):
                    if contact == e.contact_id:
                        del busy[agent]
        elif e.type == "WrapUpCompleted":
            assert busy.pop(e.agent_id) == e.contact_id


def test_every_finished_contact_has_exactly_one_cdr(run: Run, contact_events: pd.DataFrame) -> None:
    cdrs = log_frame(run.settings, ("cc.cdr",))
    assert not cdrs.contact_id.duplicated().any()
    ev = contact_events
    ended = ev[ev.type == "ContactEnded"]
    unanswered = set(ended[ended.reason == "abandoned"].contact_id)
    wrapped = set(ev[ev.type == "WrapUpCompleted"].contact_id)
    in_wrap_up = set(ended[ended.reason == "completed"].contact_id) - wrapped
    assert set(cdrs.contact_id) == unanswered | wrapped
    assert set(cdrs.contact_id).isdisjoint(in_wrap_up)


def _independent_intervals(ev: pd.DataFrame, sl_s: int = 20, short_s: int = 5) -> pd.DataFrame:
    """METRICS.md from the raw events, in plain pandas, over finished contacts."""
    t = lambda kind: ev[ev.type == kind].set_index("contact_id").occurred_at  # noqa: E731
    queued = ev[ev.type == "ContactQueued"].set_index("contact_id")[["queue_id", "occurred_at"]]
    c = queued.rename(columns={"occurred_at": "queued_at"})
    c["connected_at"] = t("ContactConnected")
    c["ended_at"] = t("ContactEnded")
    c["wrapped_at"] = t("WrapUpCompleted")
    c = c[c.ended_at.notna() & (c.connected_at.isna() | c.wrapped_at.notna())]  # finished contacts
    answered = c.connected_at.notna()
    c["wait"] = np.where(answered, c.connected_at - c.queued_at, c.ended_at - c.queued_at)
    holds = ev[ev.type == "ContactHeld"].groupby("contact_id").occurred_at.agg(["sum", "count"])
    resumes = ev[ev.type == "ContactResumed"].groupby("contact_id").occurred_at.agg(["sum", "count"])
    holds, resumes = holds.reindex(c.index, fill_value=0), resumes.reindex(c.index, fill_value=0)
    # a contact that ends on hold was held until it ended
    c["hold"] = resumes["sum"] - holds["sum"] + (holds["count"] - resumes["count"]) * c.ended_at
    c["talk"] = np.where(answered, c.ended_at - c.connected_at - c.hold, 0)
    c["wrap"] = np.where(answered, c.wrapped_at - c.ended_at, 0)
    short = ~answered & (c.wait <= short_s * 1000)
    c["interval"] = pd.to_datetime(c.queued_at // 900_000 * 900_000, unit="ms", utc=True)
    c["offered"] = ~short
    c["answered"] = answered
    c["abandoned"] = ~answered & ~short
    c["short_abandoned"] = short
    c["answered_in_sl"] = answered & (c.wait <= sl_s * 1000)
    c["answer_wait"] = np.where(answered, c.wait, 0)
    c["max_wait"] = c.wait
    g = c.groupby(["queue_id", "interval"])
    out = g[["offered", "answered", "abandoned", "short_abandoned", "answered_in_sl"]].sum()
    out["longest_wait_s"] = g.max_wait.max() / 1000
    out["service_level"] = out.answered_in_sl / out.offered.replace(0, np.nan)
    out["asa_s"] = g.answer_wait.sum() / 1000 / out.answered.replace(0, np.nan)
    out["aht_s"] = (g.talk.sum() + g.hold.sum() + g.wrap.sum()) / 1000 / out.answered.replace(0, np.nan)
    return out.reset_index()


def test_report_equals_an_independent_pandas_computation(run: Run, contact_events: pd.DataFrame) -> None:
    done = run.ccx("report", "queue-intervals", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("tenant,queue_id,interval_start")
    report = pd.read_csv(io.StringIO(done.stdout))
    report["interval"] = pd.to_datetime(report.interval_start, utc=True)
    expected = _independent_intervals(contact_events)
    merged = expected.merge(report, on=["queue_id", "interval"], how="outer", suffixes=("_pd", "_ccx"))
    assert len(merged) == len(expected) == len(report) >= 8  # 2 queues x 4+ intervals
    for col in ("offered", "answered", "abandoned", "short_abandoned", "answered_in_sl"):
        assert (merged[f"{col}_pd"] == merged[f"{col}_ccx"]).all(), col
    for col in ("longest_wait_s", "service_level", "asa_s", "aht_s"):
        np.testing.assert_allclose(
            merged[f"{col}_pd"], merged[f"{col}_ccx"], rtol=1e-9, atol=1e-6, err_msg=col
        )


def test_report_totals_equal_the_live_totals(run: Run) -> None:
    done = run.ccx("report", "queue-intervals", "--format", "csv")
    report = pd.read_csv(io.StringIO(done.stdout))
    summary = run.summary
    assert report.answered.sum() == summary["answered"]
    assert report.abandoned.sum() == summary["abandoned"]
    assert report.short_abandoned.sum() == summary["short_abandoned"]


def test_dead_letter_free_and_replay_finds_no_mismatch(run: Run) -> None:
    assert run.summary["dead_letters"] == 0
    done = run.ccx("replay", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    decisions, mismatches = (int(x.split(": ")[1]) for x in done.stdout.strip().split(", "))
    assert decisions > run.summary["commands"] and mismatches == 0
