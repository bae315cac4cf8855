"""Fault tests of the real ACD runner (`ccx run acd`) on a real Kafka.

Each test feeds simulated commands (closed-loop simulations on the embedded log, copied
over) into its own namespace, hurts the runner or the cluster in mid-stream, and then
compares every decision read back read_committed with an uninterrupted in-process run of
the same processor over the same commands: per tenant the same records in the same order,
every decision once (event ids unique), nothing missing.

- crash: SIGKILL of the ACD process mid-stream, restart, run to the end;
- scale-out: two instances of one group share the partitions, one is stopped while input
  keeps coming, the survivor takes its partitions over;
- broker loss: one of three brokers (replication factor 3, min.insync.replicas 2) is
  killed while appends and transactions go on, the one that coordinates the ACD's group
  and transactions and leads the tenant's command partition; no acknowledged append is
  lost, and the ACD goes on to the end.

When a wait times out, the ACD processes dump their threads' stacks into the failure.
"""

from __future__ import annotations

import dataclasses
import heapq
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from ccx.bootstrap import open_log
from ccx.settings import Settings
from ccx.simulate import DEFAULT_START, parse_start, run_simulation
from infra.kafka.local import LocalKafka
from processors.acd import acd_processor
from schemas.agent import AgentStateChanged
from schemas.envelope import Message
from streams import topics
from streams.embedded import EmbeddedLog
from streams.kafka import KafkaLog
from streams.keyvault import KeyVault
from streams.partitioner import partition_for
from streams.ports import EventLog, Record
from streams.runner import Runner
from streams.serde import Serde
from telephony.simulator import SimConfig

COMMANDS = topics.COMMANDS.name
OUTPUTS = (*acd_processor().outputs, topics.DEAD_LETTER.name)
BUSY = ("reserved", "handling", "wrap_up")
ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 240.0
"""Generous deadline of every wait: the machine is small and shared."""

WITH_STACKS = (
    "import faulthandler, signal; faulthandler.register(signal.SIGUSR1); from ccx.cli import main; main()"
)
"""`python -c` program: the ccx CLI, dumping every thread's stack on SIGUSR1 (a hang's story)."""
STDERR: dict[int, Path] = {}
"""pid of each ACD process started -> the file its stderr goes to."""

Decisions = dict[tuple[str, str], list[Message[Any]]]
"""(topic, tenant) -> the decisions, in log order."""


# ---- commands and the uninterrupted reference --------------------------------------------------


def simulated(tmp: Path, tenant: str, seed: int, *, agents: int, minutes: int) -> list[Message[Any]]:
    """A tenant's commands from a closed-loop simulation (ACD included) on the embedded log."""
    settings = Settings(data_dir=tmp / f"sim-{tenant}", tenant=tenant)
    config = SimConfig(tenant=tenant, queues=3, agents=agents, arrival_rate_per_hour=900)
    run_simulation(
        settings,
        config,
        seed=seed,
        duration_ms=minutes * 60_000,
        start_ms=parse_start(DEFAULT_START),
        with_warehouse=False,
        progress=False,
    )
    log = EmbeddedLog(settings.log_path)
    vault = KeyVault(settings.key_vault_path)  # the callers' numbers are sealed (ADR 20)
    try:
        serde = Serde(log, vault)
        p = partition_for(tenant.encode(), log.partitions(COMMANDS))
        return [serde.decode(r.value) for r in read_all(log, COMMANDS, p)]
    finally:
        vault.close()
        log.close()


def reference(tmp: Path, commands: Sequence[Message[Any]]) -> Decisions:
    """The decisions of an uninterrupted in-process ACD over `commands` (embedded log)."""
    log = EmbeddedLog(tmp / "reference.sqlite")
    try:
        log.ensure_topics(topics.ALL)
        serde = Serde(log)
        log.append([serde.out(m) for m in commands])
        with Runner(acd_processor(), log, serde) as runner:
            assert runner.run_until_idle() == len(commands)
        return decisions(log, serde)
    finally:
        log.close()


@dataclass(frozen=True)
class Stream:
    commands: list[Message[Any]]
    expected: Decisions


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Stream:
    """One tenant's few thousand commands (an hour of traffic, a Tick every second)."""
    tmp = tmp_path_factory.mktemp("acme")
    commands = simulated(tmp, "acme", 11, agents=30, minutes=60)
    return Stream(commands, reference(tmp, commands))


# ---- reading and checking the log --------------------------------------------------------------


def read_all(log: EventLog, topic: str, partition: int) -> list[Record]:
    out: list[Record] = []
    offset = 0
    while batch := log.read(topic, partition, offset, 10_000):
        out += batch
        offset = batch[-1].offset + 1
    return out


def decisions(log: EventLog, serde: Serde) -> Decisions:
    """Every output record decoded, per (topic, tenant) in log order; keys checked."""
    out: Decisions = defaultdict(list)
    for topic in OUTPUTS:
        for p in range(log.partitions(topic)):
            for r in read_all(log, topic, p):
                m = serde.decode(r.value)
                if topic != topics.DEAD_LETTER.name:
                    assert r.key == m.envelope.tenant.encode(), (topic, p, r.offset)
                out[(topic, m.envelope.tenant)].append(m)
    return dict(out)


def assert_same_decisions(got: Decisions, expected: Decisions) -> None:
    """Per tenant and topic the same decisions in the same order, each exactly once."""
    ids = [m.envelope.event_id for ms in got.values() for m in ms]
    dupes = {i for i in ids if ids.count(i) > 1} if len(ids) != len(set(ids)) else set()
    assert not dupes, f"{len(dupes)} decisions appear more than once, e.g. {sorted(dupes)[:3]}"
    assert got.keys() == expected.keys(), f"(topic, tenant) differ: {sorted(got.keys() ^ expected.keys())}"
    for key, want in expected.items():
        have = got[key]
        first = next((i for i, (a, b) in enumerate(zip(have, want, strict=False)) if a != b), None)
        assert first is None and len(have) == len(want), (
            f"{key}: {len(have)} decisions, expected {len(want)}; first difference at #{first}"
        )


def assert_one_contact_per_agent(got: Decisions) -> None:
    """No agent is reserved for, handling or wrapping up two contacts at once (per tenant)."""
    for (topic, tenant), messages in got.items():
        if topic != topics.AGENT_EVENTS.name:
            continue
        holding: dict[str, str] = {}
        for m in messages:
            e = m.body
            if not isinstance(e, AgentStateChanged):
                continue
            if e.state in BUSY:
                assert holding.get(e.agent_id, e.contact_id) == e.contact_id, (
                    f"tenant {tenant}: {e.agent_id} offered {e.contact_id} while holding "
                    f"{holding[e.agent_id]}"
                )
                holding[e.agent_id] = e.contact_id
            else:
                holding.pop(e.agent_id, None)


# ---- the Kafka side ----------------------------------------------------------------------------


def kafka_settings(bootstrap: str, tmp: Path, **overrides: Any) -> Settings:
    """Settings of a fresh namespace on `bootstrap` (nobody else sees its topics and groups)."""
    namespace = f"faults-{uuid.uuid4().hex[:10]}."
    return Settings(data_dir=tmp, backend="kafka", bootstrap=bootstrap, namespace=namespace, **overrides)


def feed(log: EventLog, serde: Serde, commands: Sequence[Message[Any]], chunk: int = 500) -> list[Record]:
    """Append `commands` in chunks; the acknowledged records."""
    acked: list[Record] = []
    for i in range(0, len(commands), chunk):
        acked += log.append([serde.out(m) for m in commands[i : i + chunk]])
    return acked


def acd(settings: Settings, instance: str, *args: str) -> subprocess.Popen[bytes]:
    """`ccx run acd` in its own process, configured by the environment as in production."""
    env = {
        **os.environ,
        "CCX_BACKEND": "kafka",
        "CCX_BOOTSTRAP": settings.bootstrap or "",
        "CCX_NAMESPACE": settings.namespace,
        "CCX_DATA_DIR": str(settings.data_dir),
        "CCX_INSTANCE": instance,
        "CCX_REPLICATION_FACTOR": str(settings.replication_factor),
        "CCX_MIN_INSYNC_REPLICAS": str(settings.min_insync_replicas),
    }
    path = settings.data_dir / f"acd-{instance}.stderr"
    with path.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", WITH_STACKS, "run", "acd", *args], env=env, cwd=ROOT, stderr=err
        )
    STDERR[proc.pid] = path
    return proc


def stderr_of(settings: Settings, instance: str, tail: int = 4000) -> str:
    path = settings.data_dir / f"acd-{instance}.stderr"
    return path.read_text(errors="replace")[-tail:] if path.exists() else ""


def handled(settings: Settings, instance: str) -> int:
    """How many records the last `ccx run acd` of `instance` handled (its last progress line)."""
    counts = re.findall(r"^acd: (\d+) handled", stderr_of(settings, instance, 10**9), re.MULTILINE)
    assert counts, stderr_of(settings, instance)
    return int(counts[-1])


def ends(log: EventLog) -> dict[tuple[str, int], int]:
    return {(COMMANDS, p): log.end_offset(COMMANDS, p) for p in range(log.partitions(COMMANDS))}


def done(log: EventLog, committed: dict[tuple[str, int], int]) -> int:
    return sum(committed.get(tp, 0) for tp in ends(log))


def wait_for(what: str, condition: Any, procs: Sequence[subprocess.Popen[bytes]] = ()) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        for proc in procs:
            assert proc.poll() is None, f"{what}: the ACD process exited with {proc.returncode}"
        if time.monotonic() > deadline:
            for proc in procs:
                proc.send_signal(signal.SIGUSR1)  # each thread's stack to its stderr
            time.sleep(1)
            tails = [_python_lines(STDERR[p.pid]) for p in procs if p.pid in STDERR]
            raise AssertionError(f"timed out waiting: {what}\n" + "\n".join(tails))
        time.sleep(0.05)


def _python_lines(path: Path, lines: int = 80) -> str:
    """The end of a child's stderr without librdkafka's log lines."""
    text = path.read_text(errors="replace").splitlines() if path.exists() else []
    return f"--- {path.name}\n" + "\n".join([t for t in text if not t.startswith("%")][-lines:])


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """ACD processes a test started; whatever still runs at the end is killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---- 1. crash ----------------------------------------------------------------------------------


def test_sigkilled_acd_on_kafka_restarts_without_duplicate_or_missing_decision(
    kafka_broker: str, tmp_path: Path, acme: Stream, procs: list[subprocess.Popen[bytes]]
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path)
    log, serde = open_log(settings)
    try:
        feed(log, serde, acme.commands)
        total = done(log, ends(log))
        assert total == len(acme.commands)  # idempotent appends: no marker, one offset each

        first = acd(settings, "0", "--until-idle", "--batch-size", "25")
        procs.append(first)
        wait_for("the ACD commits a third", lambda: done(log, log.committed("acd")) > total // 3, [first])
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=WAIT_S) == -signal.SIGKILL
        # (its open transaction keeps the group's offsets unstable until the restart fences it)

        second = acd(settings, "0", "--until-idle", "--batch-size", "25")
        procs.append(second)
        assert second.wait(timeout=WAIT_S) == 0, stderr_of(settings, "0")
        assert log.committed("acd") == ends(log)
        assert 0 < handled(settings, "0") < total, "the kill must land mid-stream"

        got = decisions(log, serde)
        assert_same_decisions(got, acme.expected)
        assert_one_contact_per_agent(got)
    finally:
        log.close()


# ---- 2. scale-out ------------------------------------------------------------------------------


def spread_tenants(partitions: int) -> list[str]:
    """One tenant per partition of the command topic (commands are keyed by tenant)."""
    chosen: dict[int, str] = {}
    i = 0
    while len(chosen) < partitions:
        name = f"tenant-{i}"
        chosen.setdefault(partition_for(name.encode(), partitions), name)
        i += 1
    return [chosen[p] for p in sorted(chosen)]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Stream:
    """Six tenants' traffic, one tenant per command partition, merged in time order."""
    tmp = tmp_path_factory.mktemp("fleet")
    per_tenant = [
        simulated(tmp, tenant, 100 + i, agents=8, minutes=15)
        for i, tenant in enumerate(spread_tenants(topics.COMMANDS.partitions))
    ]
    commands = list(heapq.merge(*per_tenant, key=lambda m: m.envelope.occurred_at))
    return Stream(commands, reference(tmp, commands))


def owners(admin: AdminClient, settings: Settings) -> dict[int, set[int]]:
    """pid of each member of the ACD group -> the command partitions it owns now."""
    group = settings.namespace + "acd"
    description = admin.describe_consumer_groups([group])[group].result()
    out: dict[int, set[int]] = {}
    for member in description.members:
        pid = int(member.client_id.rsplit("-", 1)[1])  # client.id "ccx-acd-<pid>"
        out[pid] = {tp.partition for tp in member.assignment.topic_partitions}
    return out


def test_a_second_instance_shares_the_partitions_and_the_survivor_takes_them_over(
    kafka_broker: str, tmp_path: Path, fleet: Stream, procs: list[subprocess.Popen[bytes]]
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path)
    admin = AdminClient({"bootstrap.servers": kafka_broker})
    log, serde = open_log(settings)
    everything = set(range(log.partitions(COMMANDS)))
    commands = fleet.commands
    head, tail = commands[: len(commands) // 4], commands[len(commands) // 4 :]
    chunks = [tail[i : i + 100] for i in range(0, len(tail), 100)]
    try:
        feed(log, serde, head)
        one = acd(settings, "1", "--batch-size", "25")
        two = acd(settings, "2", "--batch-size", "25")
        procs += [one, two]

        def shared() -> bool:
            now = owners(admin, settings)
            return (
                set(now) == {one.pid, two.pid}
                and all(now.values())
                and now[one.pid] | now[two.pid] == everything
            )

        wait_for("both instances own partitions", shared, [one, two])
        theirs = owners(admin, settings)[two.pid]
        before = log.committed("acd")
        feed(log, serde, [m for chunk in chunks[: len(chunks) // 4] for m in chunk])
        wait_for(
            "the second instance commits on its partitions",
            lambda: any(
                log.committed("acd").get((COMMANDS, p), 0) > before.get((COMMANDS, p), 0) for p in theirs
            ),
            [one, two],
        )
        assert owners(admin, settings)[two.pid] == theirs

        rest = chunks[len(chunks) // 4 :]
        for i, chunk in enumerate(rest):
            if i == len(rest) // 3:
                two.send_signal(signal.SIGTERM)  # while input keeps coming
            if i == 2 * len(rest) // 3:
                assert two.wait(timeout=WAIT_S) == 0, stderr_of(settings, "2")
                wait_for(
                    "the survivor owns every partition",
                    lambda: owners(admin, settings) == {one.pid: everything},
                    [one],
                )
            feed(log, serde, chunk)
            time.sleep(0.02)
        wait_for("the survivor decides everything", lambda: log.committed("acd") == ends(log), [one])
        assert stop(one) == 0, stderr_of(settings, "1")
        assert handled(settings, "1") + handled(settings, "2") == len(commands)  # each committed once

        got = decisions(log, serde)
        assert_same_decisions(got, fleet.expected)
        assert_one_contact_per_agent(got)
    finally:
        log.close()


# ---- 3. broker loss ----------------------------------------------------------------------------


def coordinator_partition(key: str, partitions: int) -> int:
    """The partition of __consumer_offsets (group id) or __transaction_state (transactional
    id) whose leader coordinates `key`: Kafka's abs(String.hashCode) % partitions."""
    h = 0
    for ch in key:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return (h & 0x7FFFFFFF) % partitions


def leaders(admin: AdminClient, topic: str) -> dict[int, int]:
    """partition -> the LocalKafka index (0-based) of its leader (node ids are 1-based)."""
    meta = admin.list_topics(topic=topic, timeout=30).topics[topic]
    assert meta.error is None and meta.partitions, (topic, meta.error)
    return {p: int(m.leader) - 1 for p, m in meta.partitions.items()}


def doomed_namespace(cluster: LocalKafka, admin: AdminClient) -> tuple[str, int]:
    """A fresh namespace whose ACD group and ACD transactional id are coordinated by the same
    broker, and that broker: killing it moves both coordinators at once."""
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "transactional.id": "faults-probe"})
    producer.init_transactions(60)  # creates __transaction_state
    del producer
    probe = KafkaLog(cluster.bootstrap, namespace="faults-probe.")  # its readers' group: __consumer_offsets
    try:
        wait_for(
            "the coordinators' topics",
            lambda: all(
                t in (md := admin.list_topics(timeout=30).topics)
                and all(p.leader >= 0 for p in md[t].partitions.values())
                for t in ("__consumer_offsets", "__transaction_state")
            ),
        )
    finally:
        probe.close()
    groups, transactions = leaders(admin, "__consumer_offsets"), leaders(admin, "__transaction_state")
    while True:
        namespace = f"faults-{uuid.uuid4().hex[:10]}."
        group = groups[coordinator_partition(namespace + "acd", len(groups))]
        txn = transactions[coordinator_partition(f"{namespace}ccx-acd-0", len(transactions))]
        if group == txn:
            return namespace, group


def test_losing_a_broker_loses_no_acknowledged_append_and_no_decision(
    kafka_cluster: LocalKafka, tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """The broker killed coordinates the ACD's group and transactions and leads the
    tenant's command partition: appends, offsets and transactions all fail over."""
    admin = AdminClient({"bootstrap.servers": kafka_cluster.bootstrap})
    namespace, victim = doomed_namespace(kafka_cluster, admin)
    settings = dataclasses.replace(
        kafka_settings(kafka_cluster.bootstrap, tmp_path, replication_factor=3, min_insync_replicas=2),
        namespace=namespace,
    )
    log, serde = open_log(settings)
    led = {p for p, leader in leaders(admin, namespace + COMMANDS).items() if leader == victim}
    tenant = next(
        t
        for t in (f"tenant-{i}" for i in range(1000))
        if partition_for(t.encode(), log.partitions(COMMANDS)) in led
    )
    partition = partition_for(tenant.encode(), log.partitions(COMMANDS))
    commands = simulated(tmp_path, tenant, 12, agents=30, minutes=60)
    expected = reference(tmp_path, commands)
    head, tail = commands[: len(commands) // 4], commands[len(commands) // 4 :]
    chunks = [tail[i : i + 100] for i in range(0, len(tail), 100)]
    stopper: threading.Thread | None = None
    try:
        acked = feed(log, serde, head)
        runner = acd(settings, "0", "--batch-size", "25")
        procs.append(runner)
        wait_for("the ACD commits some input", lambda: done(log, log.committed("acd")) > 0, [runner])
        for i, chunk in enumerate(chunks):
            if i == len(chunks) // 4:  # the broker dies mid-stream
                kill = {"kill": True}
                stopper = threading.Thread(target=kafka_cluster.stop_broker, args=(victim,), kwargs=kill)
                stopper.start()
            acked += feed(log, serde, chunk)
            time.sleep(0.02)
        assert stopper is not None
        stopper.join()
        assert not kafka_cluster.broker_alive(victim)
        assert leaders(admin, namespace + COMMANDS)[partition] != victim

        # every acknowledged append is there, once, in order (retries duplicated nothing)
        stored = read_all(log, COMMANDS, partition)
        assert [(r.offset, r.value) for r in stored] == [(r.offset, r.value) for r in acked]
        assert [serde.decode(r.value) for r in stored] == commands

        wait_for("the ACD decides everything", lambda: log.committed("acd") == ends(log), [runner])
        assert stop(runner) == 0, stderr_of(settings, "0")
        assert handled(settings, "0") == len(commands)  # each committed once
        got = decisions(log, serde)
        assert_same_decisions(got, expected)
        assert_one_contact_per_agent(got)
    finally:
        if stopper is not None:
            stopper.join()
            kafka_cluster.start_broker(victim)
        log.close()
