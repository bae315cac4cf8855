"""`ccx simulate`: a fast-forward run of the whole pipeline on simulated time, and its summary.

simulate → log → ACD → CDR builder and live stats → warehouse sink, all in this process,
deterministic for a seed. With an IVR flow (`--ivr`), callers walk it before they are routed
(`telephony.simulator`, "IVR"). The summary is read from the live-stats projection, the same
numbers the wallboard shows.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from ccx.bootstrap import Pipeline, open_pipeline
from ccx.driver import SimulationDriver
from ccx.settings import Settings
from processors.live_stats import totals
from streams import topics
from telephony.ivr.model import Flow
from telephony.simulator import SimConfig, Simulator

__all__ = ["DEFAULT_START", "DRAIN_LIMIT_MS", "parse_start", "run_simulation", "summary"]

DEFAULT_START = "2026-01-05T08:00:00Z"
"""A Monday morning; fixed so that a seed alone determines the log."""

DRAIN_LIMIT_MS = 4 * 3_600_000
"""Longest the queue may take to empty after arrivals close (callers abandon long before)."""


def parse_start(text: str) -> int:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--start must be an ISO time such as {DEFAULT_START}, not {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _log_is_empty(pipeline: Pipeline) -> bool:
    log = pipeline.log
    return all(
        log.end_offset(topics.COMMANDS.name, p) == 0 for p in range(log.partitions(topics.COMMANDS.name))
    )


def summary(pipeline: Pipeline, driver: SimulationDriver) -> dict[str, Any]:
    """Totals over the run per METRICS.md, overall and per queue, plus what this run wrote:
    counted by the driver and the runners (log offsets are positions, not counts)."""
    result: dict[str, Any] = dict(totals(pipeline.stats.state, driver.tenant))
    runners = pipeline.runners.values()
    result["commands"] = driver.appended
    result["events"] = sum(r.outputs + r.dead_letters for r in runners)
    result["dead_letters"] = sum(r.dead_letters for r in runners)
    return result


def run_simulation(
    settings: Settings,
    config: SimConfig,
    *,
    seed: int,
    duration_ms: int,
    start_ms: int,
    with_warehouse: bool = True,
    progress: bool = True,
    drain: bool = True,
    ivr: Flow | None = None,
) -> dict[str, Any]:
    pipeline = open_pipeline(settings, with_warehouse=with_warehouse, owner_info={"command": "ccx simulate"})
    try:
        if not _log_is_empty(pipeline):
            raise SystemExit(
                f"{settings.log_location} already holds a log; ccx simulate starts a fresh "
                "simulation, so give it an empty --data-dir (or another --namespace on Kafka)"
            )
        driver = SimulationDriver(pipeline, Simulator(config, seed, start_ms, ivr), settings.tenant, start_ms)
        driver.setup()
        with tqdm(
            total=duration_ms // 1000, unit="sim-s", file=sys.stderr, disable=not progress, desc="simulating"
        ) as bar:
            done = [start_ms]

            def tick(at: int) -> None:
                step = (at - done[0]) // 1000
                if step > 0:
                    bar.update(step)
                    done[0] += step * 1000

            driver.run_fast_forward(start_ms + duration_ms, tick)
            if drain:
                bar.set_description("draining")
                driver.drain(start_ms + duration_ms + DRAIN_LIMIT_MS, tick)
        pipeline.run_until_idle()
        return summary(pipeline, driver)
    finally:
        pipeline.close()
