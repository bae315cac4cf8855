"""Pipeline benchmark on the embedded default; prints numbers, asserts nothing.

1. closed loop: simulate → log → ACD → CDR builder, live stats → warehouse sink, fast-forward:
   events/s through the whole pipeline (every record appended to any topic, per wall
   second). The simulator sees each decision as the ACD makes it, and the ACD commits
   every 100 ms of wall time (docs/adr/0008);
2. batch: the same commands, already in a fresh log, through the same pipeline with
   500-record batches — the processing capacity;
3. ACD decision latency: the time of one `process` call (decide + evolve), p50/p99;
4. the raw embedded log alone, in the same run: append + read the same records, same batch
   sizes, into a fresh log file — the floor; the pipeline's overhead is the ratio.

    python bench/pipeline.py [--agents 50 --queues 4 --rate 1500/h --duration 2h --seed 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ccx.bootstrap import open_pipeline
from ccx.driver import SimulationDriver
from ccx.settings import Settings
from ccx.simulate import DEFAULT_START, parse_start
from streams import topics
from streams.embedded import EmbeddedLog
from streams.ports import OutRecord
from telephony.simulator import SimConfig, Simulator, parse_duration, parse_rate


class Timed:
    """Wraps a processor and records the duration of each `process` call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.version = inner.name, inner.version
        self.inputs, self.outputs = inner.inputs, inner.outputs
        self.samples: list[float] = []

    def initial_state(self) -> Any:
        return self.inner.initial_state()

    def process(self, state: Any, message: Any) -> Any:
        t = time.perf_counter()
        out = self.inner.process(state, message)
        self.samples.append(time.perf_counter() - t)
        return out


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=1000)[int(q * 1000) - 1] if len(samples) > 1 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--queues", type=int, default=4)
    ap.add_argument("--rate", default="1500/h")
    ap.add_argument("--duration", default="2h")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "pipeline")
        pipeline = open_pipeline(settings)
        acd_runner = pipeline.runners["acd"]
        timed = Timed(acd_runner.processor)
        acd_runner.processor = timed
        start = parse_start(DEFAULT_START)
        duration_ms = parse_duration(a.duration)
        config = SimConfig(agents=a.agents, queues=a.queues, arrival_rate_per_hour=parse_rate(a.rate))
        driver = SimulationDriver(pipeline, Simulator(config, a.seed, start), settings.tenant, start)

        t0 = time.perf_counter()
        driver.setup()
        driver.run_fast_forward(start + duration_ms)
        driver.drain(start + duration_ms + 4 * 3_600_000)
        t_acd = time.perf_counter() - t0
        pipeline.run_until_idle()
        elapsed = time.perf_counter() - t0
        dead = sum(r.dead_letters for r in pipeline.runners.values())
        if dead:  # the numbers would measure the dead-letter path, not the pipeline
            raise SystemExit(f"bench invalid: {dead} dead letters (see `ccx dead-letters`)")

        log = pipeline.log
        records = []
        for t in topics.ALL:
            for p in range(log.partitions(t.name)):
                off = 0
                while batch := log.read(t.name, p, off, 50_000):
                    records += batch
                    off = batch[-1].offset + 1
        pipeline.close()

        batch = open_pipeline(Settings(data_dir=Path(tmp) / "batch"), owner_info={"command": "bench"})
        commands = [OutRecord(r.topic, r.key, r.value) for r in records if r.topic == topics.COMMANDS.name]
        for i in range(0, len(commands), 5000):
            batch.log.append(commands[i : i + 5000])
        t3 = time.perf_counter()
        batch.run_until_idle()
        t_batch = time.perf_counter() - t3
        batch.close()

        raw = EmbeddedLog(Path(tmp) / "raw.sqlite")
        raw.ensure_topics(topics.ALL)
        outs = [OutRecord(r.topic, r.key, r.value) for r in records]
        t1 = time.perf_counter()
        for i in range(0, len(outs), 500):
            raw.append(outs[i : i + 500])
        t_append = time.perf_counter() - t1
        t2 = time.perf_counter()
        n_read = 0
        for t in topics.ALL:
            for p in range(raw.partitions(t.name)):
                off = 0
                while batch := raw.read(t.name, p, off, 500):
                    n_read += len(batch)
                    off = batch[-1].offset + 1
        t_read = time.perf_counter() - t2
        raw.close()

    n = len(records)
    pipe_rate = n / elapsed
    raw_rate = n / (t_append + t_read)
    size = statistics.mean(len(r.value) for r in records)
    us = [s * 1e6 for s in timed.samples]
    print(f"simulated {a.duration} · {a.agents} agents · {a.queues} queues · {a.rate} · seed {a.seed}")
    print(f"records in the log            {n:>10,}   (mean value {size:.0f} B)")
    print(
        f"pipeline wall time            {elapsed:>10.2f} s  (simulate+ACD {t_acd:.2f} s, then CDR/stats/sink)"
    )
    print(f"closed-loop throughput        {pipe_rate:>10,.0f} events/s")
    print(f"batch pipeline throughput     {n / t_batch:>10,.0f} events/s  ({t_batch:.2f} s, same records)")
    print(f"ACD decisions                 {len(us):>10,}   (dead letters: {dead})")
    print(f"ACD decision latency p50      {pct(us, 0.50):>10.1f} µs")
    print(f"ACD decision latency p99      {pct(us, 0.99):>10.1f} µs")
    print(f"raw log append                {n / t_append:>10,.0f} records/s  (batches of 500)")
    print(f"raw log read                  {n_read / t_read:>10,.0f} records/s")
    print(f"raw log append+read           {raw_rate:>10,.0f} records/s")
    print(f"closed loop / raw log         {pipe_rate / raw_rate:>10.3f}")
    print(f"batch pipeline / raw log      {n / t_batch / raw_rate:>10.3f}")


if __name__ == "__main__":
    main()
