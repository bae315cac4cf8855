"""Kafka benchmark: raw confluent-kafka floor, the ACD pipeline with transactions, end-to-end latency.

Prints numbers, asserts nothing. Against one broker (its own `LocalKafka`, or `--bootstrap`),
each phase in its own namespace so runs never see each other:

1. records: a fast-forward simulation on the embedded log (`Simulator` + the real `Serde`)
   gives the real encoded commands and the ACD's decisions: realistic keys and sizes;
2. raw floor: a plain confluent-kafka `Producer` (acks=all, idempotent) writes those records
   (commands and decisions, their own keys: one tenant, so one partition, as in the pipeline)
   to a 6-partition topic, and a plain `Consumer` (read_committed) reads them back: produce
   records/s, and consume records/s from the first record on (start-up is not timed, as the
   runner's consumer is assigned before the pipeline's clock starts);
3. pipeline: the commands are preloaded to `cc.commands`, then the real ACD runner
   (`ccx.bootstrap.open_pipeline`, backend kafka, one Kafka transaction per 500-record batch)
   runs until idle: input records/s, output events/s, and where the time went (decide and
   evolve, Avro decode and encode, commits, the rest: polling);
4. latency: the ACD runner runs in a thread (`run_forever`, polling as `ccx run acd` does),
   commands are appended one at a time at a modest rate (RouteContact to a queue with a free
   agent, then AcceptOffer, HangUpContact, CompleteWrapUp) and each is timed from the call
   to `append` until its decision (ContactOffered, ContactConnected, ContactEnded,
   WrapUpCompleted) is seen by a separate read_committed consumer: p50, p99, max, and the
   runner's commit (one transaction per command here, until its outputs are visible).

"pipeline / raw" is the time the raw clients need to read the pipeline's input and write its
output (input/consume rate + output/produce rate) over the pipeline's time: 1.0 would mean
the pipeline moves records as fast as bare clients, with no decisions and no transactions.

    python bench/kafka.py [--bootstrap HOST:PORT] [--quick] [--json]     (make bench-kafka)
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from ccx.bootstrap import open_pipeline
from ccx.driver import SimulationDriver
from ccx.settings import Settings
from ccx.simulate import DEFAULT_START, DRAIN_LIMIT_MS, parse_start
from schemas.commands import (
    AcceptOffer,
    CompleteWrapUp,
    DefineAgent,
    DefineQueue,
    HangUpContact,
    LogInAgent,
    RouteContact,
    SetAgentReady,
)
from schemas.envelope import Envelope, Message
from streams import topics
from streams.ports import OutRecord
from telephony.simulator import SimConfig, Simulator, parse_duration, parse_rate

FULL = {"agents": 50, "queues": 4, "rate": "1500/h", "duration": "2h", "samples": 400}
QUICK = {"agents": 10, "queues": 1, "rate": "600/h", "duration": "10m", "samples": 40}
POLL_TIMEOUT_S = 0.5
"""The ACD runner's idle poll while latency is measured, as `ccx run acd` polls."""


def say(msg: str) -> None:
    print(f"[bench-kafka] {msg}", file=sys.stderr, flush=True)


def simulated_records(tmp: Path, a: argparse.Namespace) -> tuple[list[OutRecord], list[OutRecord]]:
    """(commands, ACD decisions) of a fast-forward run on the embedded log, as encoded."""
    pipeline = open_pipeline(Settings(data_dir=tmp / "sim"), with_warehouse=False, runners=("acd",))
    try:
        start = parse_start(DEFAULT_START)
        end = start + parse_duration(a.duration)
        config = SimConfig(agents=a.agents, queues=a.queues, arrival_rate_per_hour=parse_rate(a.rate))
        driver = SimulationDriver(pipeline, Simulator(config, a.seed, start), "demo", start)
        driver.setup()
        driver.run_fast_forward(end)
        driver.drain(end + DRAIN_LIMIT_MS)
        log = pipeline.log

        def everything(topic: str) -> list[OutRecord]:
            out = []
            for p in range(log.partitions(topic)):
                off = 0
                while batch := log.read(topic, p, off, 50_000):
                    out += [OutRecord(topic, r.key, r.value) for r in batch]
                    off = batch[-1].offset + 1
            return out

        commands = everything(topics.COMMANDS.name)
        decisions = [r for t in pipeline.acd.processor.outputs for r in everything(t)]  # type: ignore[union-attr]
        return commands, decisions
    finally:
        pipeline.close()


def _consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 50,
        }
    )


def _check(msg: Any) -> bool:
    """True for a record; raises for an error other than end-of-partition."""
    err = msg.error()
    if err is None:
        return True
    if err.code() == KafkaError._PARTITION_EOF:
        return False
    raise RuntimeError(f"consume: {err.str()}")


def raw_floor(bootstrap: str, topic: str, records: list[OutRecord]) -> dict[str, Any]:
    """Plain clients on the same keys and values: produce all (acks=all, idempotent), then
    consume all (read_committed). One tenant, one key: one partition, as in the pipeline."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic].result()
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    producer.produce(topic, b"warm-up", b"demo")  # metadata, connection, producer id: not timed
    producer.flush(30)
    t0 = time.perf_counter()
    for r in records:
        while True:
            try:
                producer.produce(topic, r.value, r.key)
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(60):
        raise RuntimeError("raw produce: records still unacknowledged after 60 s")
    t_produce = time.perf_counter() - t0
    consumer = _consumer(bootstrap, f"{topic}-reader")
    want, seen, deadline = len(records) + 1, 0, time.monotonic() + 120
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(6)])
    try:  # the clock starts at the first record: the consumer's start-up is not timed (nor is the runner's)
        while not seen:
            seen = len([m for m in consumer.consume(1, 1.0) if _check(m)])
        t1 = time.perf_counter()
        while seen < want:
            if time.monotonic() > deadline:
                raise RuntimeError(f"raw consume: {seen} of {want} records after 120 s")
            seen += sum(_check(m) for m in consumer.consume(min(10_000, want - seen), 1.0))
    finally:
        consumer.close()
    t_consume = time.perf_counter() - t1
    return {
        "records": len(records),
        "produce_seconds": t_produce,
        "consume_seconds": t_consume,
        "produce_rate": len(records) / t_produce,
        "consume_rate": len(records) / t_consume,
    }


class Timed:
    """A processor that adds up the time of its `process` calls (decide + evolve)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.spent: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def process(self, state: Any, message: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self.inner.process(state, message)
        finally:
            self.spent.append(time.perf_counter() - t0)


def clock(obj: Any, method: str) -> list[float]:
    """Wrap `obj.method` so that each call's duration (s) is appended to the returned list."""
    inner, spent = getattr(obj, method), []

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    setattr(obj, method, timed)
    return spent


def pipeline_throughput(bootstrap: str, ns: str, tmp: Path, commands: list[OutRecord]) -> dict[str, Any]:
    """Preload the commands, then the ACD runner until idle, with transactions; where the time went."""
    settings = Settings(data_dir=tmp / "pipe", backend="kafka", bootstrap=bootstrap, namespace=ns)
    pipeline = open_pipeline(settings, with_warehouse=False, runners=("acd",))
    try:
        for i in range(0, len(commands), 5000):
            pipeline.log.append(commands[i : i + 5000])
        acd = pipeline.acd
        acd.processor = decider = Timed(acd.processor)
        decode, encode = clock(pipeline.serde, "decode"), clock(pipeline.serde, "out")
        commit = clock(pipeline.log, "commit")
        say(f"pipeline: {len(commands):,} commands preloaded; ACD runner until idle")
        t0 = time.perf_counter()
        handled = acd.run_until_idle()
        elapsed = time.perf_counter() - t0
        seconds = {"decide": sum(decider.spent), "serde": sum(decode) + sum(encode), "commit": sum(commit)}
        return {
            "input_records": handled,
            "output_events": acd.outputs,
            "dead_letters": acd.dead_letters,
            "transactions": acd.batches,
            "seconds": elapsed,
            "input_rate": handled / elapsed,
            "output_rate": acd.outputs / elapsed,
            "seconds_decide": seconds["decide"],
            "seconds_serde": seconds["serde"],
            "seconds_commit": seconds["commit"],
            "seconds_poll_and_rest": max(0.0, elapsed - sum(seconds.values())),
        }
    finally:
        pipeline.close()


DECISION = {
    "RouteContact": "ContactOffered",
    "AcceptOffer": "ContactConnected",
    "HangUpContact": "ContactEnded",
    "CompleteWrapUp": "WrapUpCompleted",
}
"""The decision each timed command waits for."""


class Watcher:
    """A read_committed consumer on the ACD's outputs, from their current ends: which
    command (causation id) caused which decision types."""

    def __init__(self, bootstrap: str, ns: str, log: Any, serde: Any) -> None:
        self._serde = serde
        self._c = _consumer(bootstrap, f"{ns}watcher")
        outs = (topics.CONTACT_EVENTS.name, topics.AGENT_EVENTS.name, topics.COMMAND_RESULTS.name)
        self._c.assign(
            [TopicPartition(ns + t, p, log.end_offset(t, p)) for t in outs for p in range(log.partitions(t))]
        )
        self.seen: dict[str | None, dict[str, Message[Any]]] = {}

    def wait(self, cause: str, type_name: str, timeout_s: float = 30.0) -> Message[Any]:
        deadline = time.monotonic() + timeout_s
        while type_name not in self.seen.get(cause, {}):
            if "CommandRejected" in self.seen.get(cause, {}):
                raise RuntimeError(f"command {cause} rejected: {self.seen[cause]['CommandRejected'].body}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {type_name} caused by {cause} after {timeout_s} s")
            m = self._c.poll(0.05)  # returns as soon as a record is there
            if m is not None and _check(m):
                msg = self._serde.decode(m.value())
                self.seen.setdefault(msg.envelope.causation_id, {})[msg.type] = msg
        return self.seen.pop(cause)[type_name]

    def close(self) -> None:
        self._c.close()


def measure_latency(
    bootstrap: str, ns: str, tmp: Path, samples: int, rate: float, say: Callable[[str], None]
) -> dict[str, Any]:
    """Time `samples` commands from `append` to their decision, read_committed; see the top.
    The first contact's four commands warm up and are not counted."""
    settings = Settings(data_dir=tmp / "lat", backend="kafka", bootstrap=bootstrap, namespace=ns)
    pipeline = open_pipeline(settings, with_warehouse=False, runners=("acd",))
    log, serde, acd = pipeline.log, pipeline.serde, pipeline.acd

    def command(body: object, correlation: str) -> Message[Any]:
        env = Envelope(str(uuid.uuid4()), "bench", int(time.time() * 1000), correlation, None, "bench")
        return Message(env, body)

    setup: list[object] = [DefineQueue("q1", "Bench")]
    for a in ("a1", "a2", "a3", "a4"):
        setup += [DefineAgent(a, a, ("q1",)), LogInAgent(a), SetAgentReady(a)]
    log.append([serde.out(command(b, "setup")) for b in setup])
    acd.run_until_idle()
    watcher = Watcher(bootstrap, ns, log, serde)
    acd.poll_timeout_s = POLL_TIMEOUT_S
    commits: list[float] = []  # the runner's transactions (one per command here), for the breakdown
    commit = log.commit

    def timed_commit(*args: Any, **kwargs: Any) -> None:
        t0 = time.perf_counter()
        commit(*args, **kwargs)
        commits.append((time.perf_counter() - t0) * 1000)

    log.commit = timed_commit  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=acd.run_forever, args=(stop,), name="acd", daemon=True)
    thread.start()
    timed: list[float] = []
    next_at = time.monotonic()

    def timed_command(body: object, contact: str) -> Message[Any]:
        nonlocal next_at
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at = max(next_at + 1.0 / rate, time.monotonic())
        msg = command(body, contact)
        t0 = time.perf_counter()
        log.append([serde.out(msg)])
        decision = watcher.wait(msg.envelope.event_id, DECISION[msg.type])
        timed.append((time.perf_counter() - t0) * 1000)
        return decision

    try:
        contact_no = 0
        while len(timed) < samples + 4:
            contact = f"c{contact_no}"
            contact_no += 1
            agent = timed_command(RouteContact(contact, "q1"), contact).body.agent_id
            timed_command(AcceptOffer(contact, agent), contact)
            timed_command(HangUpContact(contact, "caller"), contact)
            timed_command(CompleteWrapUp(contact, agent, "resolved"), contact)
            if contact_no % 25 == 0:
                say(f"latency: {len(timed) - 4} commands timed")
    finally:
        stop.set()
        thread.join(30)
        watcher.close()
        pipeline.close()
    ms = timed[4 : 4 + samples]
    return {
        "samples": len(ms),
        "p50": pct(ms, 0.50),
        "p99": pct(ms, 0.99),
        "max": max(ms),
        "mean": statistics.mean(ms),
        "commit_p50": pct(commits[4:], 0.50),
        "commit_p99": pct(commits[4:], 0.99),
    }


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (inclusive method: within the samples' range)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[round(q * 100) - 1]


@contextlib.contextmanager
def _cleanup(bootstrap: str, ns: str) -> Iterator[None]:
    """Delete the run's topics at the end (its groups expire on their own)."""
    try:
        yield
    finally:
        gc.collect()  # KafkaLog.close leaves its clients to the collector: free them first
        admin = AdminClient({"bootstrap.servers": bootstrap})
        mine = [t for t in admin.list_topics(timeout=30).topics if t.startswith(ns)]
        for future in admin.delete_topics(mine, operation_timeout=30).values() if mine else ():
            future.result()
        say(f"deleted the run's {len(mine)} topics ({ns}*)")


def run(a: argparse.Namespace, bootstrap: str) -> dict[str, Any]:
    ns = f"bench-{uuid.uuid4().hex[:8]}."
    with tempfile.TemporaryDirectory(prefix="ccx-bench-kafka-") as tmp_dir, _cleanup(bootstrap, ns):
        tmp = Path(tmp_dir)
        say(f"simulating {a.duration} · {a.agents} agents · {a.queues} queues · {a.rate} on the embedded log")
        commands, decisions = simulated_records(tmp, a)
        say(f"{len(commands):,} commands, {len(decisions):,} decisions; raw floor (namespace {ns})")
        raw = raw_floor(bootstrap, f"{ns}raw", commands + decisions)
        say(f"raw: produce {raw['produce_rate']:,.0f}/s, consume {raw['consume_rate']:,.0f}/s")
        pipe = pipeline_throughput(bootstrap, f"{ns}pipe.", tmp, commands)
        say(f"pipeline: {pipe['input_rate']:,.0f} in/s, {pipe['output_rate']:,.0f} out/s")
        say(f"latency: {a.samples} commands one at a time at {a.latency_rate}/s")
        lat = measure_latency(bootstrap, f"{ns}lat.", tmp, a.samples, a.latency_rate, say)
    floor_s = pipe["input_records"] / raw["consume_rate"] + pipe["output_events"] / raw["produce_rate"]
    sizes = [len(r.value) for r in commands]
    return {
        "config": {k: getattr(a, k) for k in ("agents", "queues", "rate", "duration", "seed", "samples")}
        | {"bootstrap": bootstrap, "namespace": ns},
        "records": {
            "commands": len(commands),
            "decisions": len(decisions),
            "command_bytes_mean": statistics.mean(sizes),
            "decision_bytes_mean": statistics.mean(len(r.value) for r in decisions),
        },
        "raw": raw,
        "pipeline": pipe,
        "latency_ms": lat,
        "ratio": {
            "pipeline_over_raw": floor_s / pipe["seconds"],
            "input_over_raw_consume": pipe["input_rate"] / raw["consume_rate"],
            "output_over_raw_produce": pipe["output_rate"] / raw["produce_rate"],
        },
    }


def table(r: dict[str, Any]) -> str:
    c, rec, raw, pipe, lat, ratio = (
        r[k] for k in ("config", "records", "raw", "pipeline", "latency_ms", "ratio")
    )

    def row(label: str, value: str, note: str = "") -> str:
        return f"  {label:<31}{value:>10}  {note}".rstrip()

    return "\n".join(
        [
            f"Kafka at {c['bootstrap']} · simulated {c['duration']} · {c['agents']} agents · "
            f"{c['queues']} queues · {c['rate']} · seed {c['seed']}",
            f"records: {rec['commands']:,} commands (mean {rec['command_bytes_mean']:.0f} B), "
            f"{rec['decisions']:,} decisions (mean {rec['decision_bytes_mean']:.0f} B)",
            "raw confluent-kafka (the floor)",
            row("produce, acks=all, idempotent", f"{raw['produce_rate']:,.0f}", "records/s"),
            row("consume, read_committed", f"{raw['consume_rate']:,.0f}", "records/s"),
            "ccx ACD pipeline, transactions on",
            row("input", f"{pipe['input_rate']:,.0f}", f"commands/s  ({pipe['seconds']:.2f} s)"),
            row(
                "output", f"{pipe['output_rate']:,.0f}", f"events/s  ({pipe['transactions']:,} transactions)"
            ),
            row("time: decide + evolve", f"{pipe['seconds_decide']:.2f}", "s"),
            row("time: Avro decode + encode", f"{pipe['seconds_serde']:.2f}", "s"),
            row("time: commit (transactions)", f"{pipe['seconds_commit']:.2f}", "s"),
            row("time: poll and the rest", f"{pipe['seconds_poll_and_rest']:.2f}", "s"),
            f"end-to-end latency: append -> decision seen read_committed ({lat['samples']} samples)",
            row("p50", f"{lat['p50']:.1f}", "ms"),
            row("p99", f"{lat['p99']:.1f}", "ms"),
            row("max", f"{lat['max']:.1f}", "ms"),
            row(
                "of which the ACD's commit p50",
                f"{lat['commit_p50']:.1f}",
                "ms (one transaction, then visible)",
            ),
            row("of which the ACD's commit p99", f"{lat['commit_p99']:.1f}", "ms"),
            "ratio",
            row("pipeline / raw", f"{ratio['pipeline_over_raw']:.3f}", "(same records in and out)"),
            row("input / raw consume", f"{ratio['input_over_raw_consume']:.3f}"),
            row("output / raw produce", f"{ratio['output_over_raw_produce']:.3f}"),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", help="an existing broker (default: start a LocalKafka for the run)")
    ap.add_argument("--quick", action="store_true", help="a small run (about a minute)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--agents", type=int)
    ap.add_argument("--queues", type=int)
    ap.add_argument("--rate")
    ap.add_argument("--duration")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--samples", type=int, help="latency samples (commands timed one at a time)")
    ap.add_argument("--latency-rate", type=float, default=20.0, help="latency commands per second")
    a = ap.parse_args()
    for k, v in (QUICK if a.quick else FULL).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    with contextlib.ExitStack() as stack:
        bootstrap = a.bootstrap
        if bootstrap is None:
            from infra.kafka.local import LocalKafka

            bootstrap = stack.enter_context(LocalKafka(brokers=1)).bootstrap
        result = run(a, bootstrap)
    print(json.dumps(result, indent=1) if a.json else table(result))


if __name__ == "__main__":
    main()
