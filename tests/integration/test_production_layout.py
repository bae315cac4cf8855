"""The production layout as separate processes on a real Kafka broker: the very commands,
environment and health checks of docker-compose.yml, without Docker.

`ccx topics apply` runs first; then `ccx run acd|cdr|stats|sink` and `ccx api`, each a
process with its compose environment, except what only Docker has: the broker is the local
one, the namespace is fresh, each service gets its own data dir, and there is no Schema
Registry (schema ids on a topic) and no ClickHouse server (the sink writes chDB in its data
dir). An edge script appends a scenario to cc.commands and answers the ACD's offers as
agents would. Then: the API's live view shows the answered contacts, cc.cdr has one record
per finished contact, the sink stops cleanly on SIGTERM and `ccx report` reads its warehouse.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import yaml

from analytics.sink import WarehouseSink
from ccx.bootstrap import RUNNERS, open_log
from ccx.settings import Settings
from processors.metrics import interval_start
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
from schemas.contact import ContactConnected, ContactOffered, WrapUpCompleted, WrapUpStarted
from schemas.envelope import Envelope, Message
from streams import topics
from streams.partitioner import partition_for
from streams.ports import EventLog
from streams.serde import Serde
from tests.helpers.tokens import bearer, issue

ROOT = Path(__file__).resolve().parents[2]
SERVICES: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
TENANT = "demo"
CONTACTS = {"c1": "sales", "c2": "support", "c3": "sales"}
DEADLINE_S = 180.0
"""Generous: five Python processes start on a small, shared machine."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_option(args: list[str], option: str, value: str) -> list[str]:
    i = args.index(option)
    return [*args[: i + 1], value, *args[i + 2 :]]


class Layout:
    """The compose services as local processes: commands, environments, logs, health checks."""

    def __init__(self, root: Path, bootstrap: str, api_port: int) -> None:
        self.root, self.bootstrap, self.api_port = root, bootstrap, api_port
        self.namespace = f"pl{uuid.uuid4().hex[:8]}."
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        (root / "logs").mkdir()

    def data_dir(self, service: str) -> Path:
        return self.root / service

    def env(self, service: str) -> dict[str, str]:
        """The service's compose environment, with what only Docker has replaced."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CCX_")}
        compose = dict(SERVICES[service].get("environment", {}))
        assert compose["CCX_BACKEND"] == "kafka"
        compose.pop("CCX_SCHEMA_REGISTRY_URL")  # schema ids on a topic instead
        compose.pop("CCX_WAREHOUSE_URL", None)  # the sink's chDB in its own data dir
        compose |= {
            "CCX_BOOTSTRAP": self.bootstrap,
            "CCX_NAMESPACE": self.namespace,
            "CCX_DATA_DIR": str(self.data_dir(service)),
            "CCX_KEY_VAULT": str(self.root / "keys" / "keys.sqlite"),  # the shared ccx-keys volume
        }
        return env | compose

    def argv(self, service: str) -> list[str]:
        args = list(SERVICES[service]["command"])
        if service == "api":
            args = with_option(with_option(args, "--host", "127.0.0.1"), "--port", str(self.api_port))
        return [sys.executable, "-m", "ccx.cli", *args]

    def start(self, service: str) -> None:
        log = self._logs[service] = (self.root / "logs" / f"{service}.log").open("wb")
        self.procs[service] = subprocess.Popen(
            self.argv(service), env=self.env(service), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    def run(self, service: str, timeout_s: float = DEADLINE_S) -> None:
        """Run a one-shot service to completion; it must succeed."""
        self.start(service)
        code = self.procs[service].wait(timeout=timeout_s)
        assert code == 0, f"{service} exited {code}\n{self.tails()}"

    def healthy(self, service: str) -> tuple[bool, str]:
        """Run the service's compose health check (python in the image is this python)."""
        test = list(SERVICES[service]["healthcheck"]["test"])
        assert test[:2] == ["CMD", "python"]
        argv = [sys.executable, *test[2:]]
        argv = [a.replace("127.0.0.1:8080", f"127.0.0.1:{self.api_port}") for a in argv]
        done = subprocess.run(argv, env=self.env(service), capture_output=True, text=True, timeout=60)
        return done.returncode == 0, done.stdout + done.stderr

    def stop(self, service: str, timeout_s: float = 60.0) -> int:
        """SIGTERM, then SIGKILL after the timeout; the exit code."""
        proc = self.procs[service]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        self._logs[service].close()
        return int(proc.returncode)

    def tails(self, lines: int = 15) -> str:
        out = []
        for path in sorted((self.root / "logs").glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.stem}\n" + "\n".join(text))
        return "\n".join(out)

    def running(self) -> None:
        dead = {s: p.returncode for s, p in self.procs.items() if p.poll() is not None and s != "topics"}
        assert not dead, f"exited early: {dead}\n{self.tails()}"


def wait_for(what: str, check: Callable[[], Any], layout: Layout, timeout_s: float = DEADLINE_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        layout.running()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{layout.tails()}")
        time.sleep(0.3)


class Edge:
    """A scripted edge: appends commands to cc.commands with wall-clock times, reads decisions."""

    def __init__(self, log: EventLog, serde: Serde) -> None:
        self.log, self.serde = log, serde
        self.last_ms = 0
        events = topics.CONTACT_EVENTS.name
        self.partition = partition_for(TENANT.encode(), log.partitions(events))
        self.offset = 0
        self.times: dict[str, int] = {}

    def send(self, *commands: tuple[object, str, str]) -> None:
        messages = []
        for body, correlation, actor in commands:
            self.last_ms = max(self.last_ms + 1, int(time.time() * 1000))
            env = Envelope(f"edge-{uuid.uuid4()}", TENANT, self.last_ms, correlation, None, actor)
            messages.append(Message(env, body))
            if isinstance(body, RouteContact):
                self.times[body.contact_id] = self.last_ms
        self.log.append([self.serde.out(m) for m in messages])

    def decisions(self) -> list[object]:
        """Contact events the ACD committed since the last call."""
        records = self.log.read(topics.CONTACT_EVENTS.name, self.partition, self.offset, 500)
        if records:
            self.offset = records[-1].offset + 1
        return [self.serde.decode(r.value).body for r in records]


def play_scenario(edge: Edge, layout: Layout) -> None:
    """Two queues, two agents; three contacts routed, offered, accepted, hung up, wrapped up."""
    edge.send(
        (DefineQueue("sales", "Sales"), "sales", "admin"),
        (DefineQueue("support", "Support"), "support", "admin"),
        (DefineAgent("a1", "Ann", ("sales", "support")), "a1", "admin"),
        (DefineAgent("a2", "Bob", ("sales",)), "a2", "admin"),
        (LogInAgent("a1"), "a1", "agent:a1"),
        (LogInAgent("a2"), "a2", "agent:a2"),
        (SetAgentReady("a1"), "a1", "agent:a1"),
        (SetAgentReady("a2"), "a2", "agent:a2"),
    )
    edge.send(
        *((RouteContact(c, q, ani=f"+4930{i}"), c, "switch") for i, (c, q) in enumerate(CONTACTS.items()))
    )
    finished: set[str] = set()

    def react() -> bool:
        for event in edge.decisions():
            match event:
                case ContactOffered(contact_id=c, agent_id=a):
                    edge.send((AcceptOffer(c, a), c, f"agent:{a}"))
                case ContactConnected(contact_id=c):
                    edge.send((HangUpContact(c, "caller"), c, "switch"))
                case WrapUpStarted(contact_id=c, agent_id=a):
                    edge.send((CompleteWrapUp(c, a, "resolved"), c, f"agent:{a}"))
                case WrapUpCompleted(contact_id=c):
                    finished.add(c)
        return finished == set(CONTACTS)

    wait_for("every contact answered and wrapped up", react, layout)


TOKENS: dict[str, str] = {}
"""The api service's bearer token, issued into its data directory once it is laid out."""


def get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers=bearer(TOKENS["api"]) if "api" in TOKENS else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def answered_live(base: str, entered: dict[str, int]) -> dict[str, int]:
    """Answered per queue from /v1/queues/live (its current interval), or from the queues'
    day series if the contacts entered in an interval that is no longer the current one."""
    live = get_json(f"{base}/v1/queues/live")
    queues = {q["queue_id"]: q for q in live["queues"]}
    interval_s = int(next(iter(queues.values()))["interval_s"]) if queues else 900
    starts = {interval_start(t, interval_s) for t in entered.values()}
    if all(q["interval_start"] in starts for q in queues.values()) and len(starts) == 1:
        return {qid: int(q["answered"]) for qid, q in queues.items()}
    series = {qid: get_json(f"{base}/v1/queues/{qid}/series") for qid in queues}
    return {qid: sum(int(i["answered"]) for i in s) for qid, s in series.items()}


def read_all(log: EventLog, serde: Serde, topic: str) -> list[Any]:
    out = []
    for p in range(log.partitions(topic)):
        out += [serde.decode(r.value).body for r in log.read(topic, p, 0, 10_000)]
    return out


def caught_up(log: EventLog, group: str, inputs: tuple[str, ...]) -> bool:
    committed = log.committed(group)
    return all(committed.get((t, p), 0) >= end for t in inputs for p, end in enumerate(log.end_offsets(t)))


@pytest.fixture
def layout(kafka_broker: str, tmp_path: Path) -> Iterator[Layout]:
    layout = Layout(tmp_path, kafka_broker, free_port())
    try:
        yield layout
    finally:
        for service in list(layout.procs):
            layout.stop(service, timeout_s=30)


def test_compose_commands_as_processes_on_kafka(layout: Layout) -> None:
    runners = [s for s in SERVICES if SERVICES[s].get("command", [None])[0] == "run"]
    assert sorted(runners) == sorted(RUNNERS)
    layout.run("topics")
    for service in (*runners, "clock", "api"):
        layout.start(service)
    TOKENS["api"] = issue(layout.data_dir("api"))

    def all_healthy() -> bool:
        return all(layout.healthy(s)[0] for s in (*runners, "clock", "api"))

    wait_for("every service's compose health check to pass", all_healthy, layout)

    client = Settings(
        data_dir=layout.root / "edge",
        backend="kafka",
        bootstrap=layout.bootstrap,
        namespace=layout.namespace,
        key_vault=layout.root / "keys" / "keys.sqlite",
    )
    log, serde = open_log(client)
    try:
        edge = Edge(log, serde)
        play_scenario(edge, layout)

        base = f"http://127.0.0.1:{layout.api_port}"
        expected = dict(Counter(CONTACTS.values()))
        settled = {"sales": ("Sales", 0, 2), "support": ("Support", 0, 1)}  # name, waiting, available

        def live_view_settled() -> bool:
            queues = get_json(f"{base}/v1/queues/live")["queues"]
            now = {q["queue_id"]: (q["name"], q["waiting"], q["agents"]["available"]) for q in queues}
            return now == settled and answered_live(base, edge.times) == expected

        wait_for("the API's live view: contacts answered, agents available again", live_view_settled, layout)

        def cdrs() -> list[Any]:
            records = read_all(log, serde, topics.CDR.name)
            return records if len(records) >= len(CONTACTS) else []

        records = wait_for("one CDR per contact", cdrs, layout)
        time.sleep(1.0)  # a duplicate would come right behind
        records = read_all(log, serde, topics.CDR.name)
        assert sorted(r.contact_id for r in records) == sorted(CONTACTS)
        assert {r.contact_id: (r.queue_id, r.outcome) for r in records} == {
            c: (q, "answered") for c, q in CONTACTS.items()
        }
        assert {r.contact_id: r.agent_id for r in records if r.queue_id == "support"} == {"c2": "a1"}

        wait_for("the sink to catch up", lambda: caught_up(log, "sink", WarehouseSink.inputs), layout)

        def clock_ticks() -> list[int]:
            ticks = [
                serde.decode(r.value).envelope.occurred_at
                for p in range(log.partitions(topics.COMMANDS.name))
                for r in log.read(topics.COMMANDS.name, p, 0, 100_000)
                if serde.decode(r.value).type == "Tick"
            ]
            return ticks if len(ticks) >= 2 else []

        ticks = wait_for("the clock's ticks for the tenant", clock_ticks, layout)
        assert all(t % 1000 == 0 for t in ticks) and len(set(ticks)) == len(ticks)
    finally:
        log.close()

    assert layout.stop("sink") == 0, layout.tails()
    healthy, why = layout.healthy("sink")
    assert not healthy and "stopped" in why
    sink_dir = str(layout.data_dir("sink"))
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "ccx.cli",
            "report",
            "queue-intervals",
            "--data-dir",
            sink_dir,
            "--format",
            "csv",
        ],
        env={k: v for k, v in os.environ.items() if not k.startswith("CCX_")},
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        cwd=ROOT,
    )
    assert report.returncode == 0, report.stderr
    rows = list(csv.DictReader(io.StringIO(report.stdout)))
    answered: Counter[str] = Counter()
    for row in rows:
        assert row["tenant"] == TENANT
        answered[row["queue_id"]] += int(row["answered"])
    assert dict(answered) == expected

    for service in (*runners, "clock", "api"):
        assert layout.stop(service) == 0, f"{service}\n{layout.tails()}"
