"""The Java example (examples/cdr-consumer-java) reads the CDRs of a real `ccx simulate` on
the real broker exactly as ccx's own log port reads them: same contacts, same durations.

Schemas come from ccx's `_ccx-schemas` topic, or from a Schema Registry given by URL. No
registry runs here, so the registry path is served by a loopback stand-in that answers
Confluent's `GET /schemas/ids/{id}` from ccx's schema store; the wire bytes are the same.

The example is built with Maven in a copy (offline first; online the first time, caching in
~/.m2). A machine without `java` or `mvn` fails here with that reason: install them with
infra/kafka/ensure-java.sh.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ccx.bootstrap import open_log
from ccx.settings import Settings
from streams import topics

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cdr-consumer-java"
COMPARED = ("outcome", "agent_id", "wait_ms", "talk_ms", "hold_ms", "wrap_up_ms", "arrived_at", "finished_at")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not on PATH: the Java example needs Java 17 and Maven (infra/kafka/ensure-java.sh)"
        )
    return path


@pytest.fixture(scope="module")
def consumer_jar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mvn = _tool("mvn")
    _tool("java")
    build = tmp_path_factory.mktemp("cdr-consumer-java")
    shutil.copytree(EXAMPLE, build, dirs_exist_ok=True, ignore=shutil.ignore_patterns("target"))
    for offline in (True, False):  # offline from ~/.m2; online only the first time
        cmd = [mvn, "-q", "-B", *(["-o"] if offline else []), "package"]
        proc = subprocess.run(cmd, cwd=build, capture_output=True, text=True, timeout=900)
        if proc.returncode == 0:
            return build / "target" / "cdr-consumer.jar"
    raise AssertionError(f"mvn package failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")


@pytest.fixture(scope="module")
def simulated(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A short simulation on the broker, in its own namespace; yields the namespace."""
    ns = f"cdrj{uuid.uuid4().hex[:8]}."
    cmd = [
        *(sys.executable, "-m", "ccx.cli", "simulate", "--backend", "kafka"),
        *("--bootstrap", kafka_broker, "--namespace", ns, "--data-dir", str(tmp_path_factory.mktemp("sim"))),
        *(
            "--agents",
            "5",
            "--queues",
            "1",
            "--rate",
            "120/h",
            "--duration",
            "10m",
            "--json",
            "--no-warehouse",
        ),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert json.loads(proc.stdout)["contacts"] > 0
    return ns


@pytest.fixture(scope="module")
def python_cdrs(
    kafka_broker: str, simulated: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """CDRs as ccx reads them (the log port and the serde), by contact id; and the schema id."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("py"), backend="kafka", bootstrap=kafka_broker, namespace=simulated
    )
    log, serde = open_log(settings)
    try:
        cdrs: dict[str, Any] = {}
        for p in range(log.partitions(topics.CDR.name)):
            offset = 0
            while batch := log.read(topics.CDR.name, p, offset, 10_000):
                for record in batch:
                    body = serde.decode(record.value).body
                    cdrs[body.contact_id] = {k: getattr(body, k) for k in COMPARED}
                offset = batch[-1].offset + 1
        return {"cdrs": cdrs, "schema_id": serde.schema_id("ContactRecord"), "log": settings}
    finally:
        log.close()


def _run_java(jar: Path, bootstrap: str, ns: str, *extra: str) -> tuple[list[dict[str, Any]], str]:
    cmd = [_tool("java"), "-jar", str(jar), "--bootstrap", bootstrap, "--namespace", ns, "--until-caught-up"]
    proc = subprocess.run([*cmd, *extra], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()], proc.stderr


def _check(lines: list[dict[str, Any]], stderr: str, expected: dict[str, Any]) -> None:
    cdrs = expected["cdrs"]
    assert cdrs, "the simulation wrote no CDRs"
    assert f"read {len(cdrs)} CDRs" in stderr, stderr[-2000:]
    assert {line["type"] for line in lines} == {"ccx.cdr.ContactRecord"}
    assert {line["schema_id"] for line in lines} == {expected["schema_id"]}
    got = {line["record"]["contact_id"]: {k: line["record"][k] for k in COMPARED} for line in lines}
    assert len(got) == len(lines)
    assert got == cdrs
    assert all(line["key"] == line["record"]["contact_id"] for line in lines)


def test_java_consumer_reads_cdrs_with_schemas_from_the_topic(
    consumer_jar: Path, kafka_broker: str, simulated: str, python_cdrs: dict[str, Any]
) -> None:
    lines, stderr = _run_java(consumer_jar, kafka_broker, simulated, "--group", "from-topic")
    _check(lines, stderr, python_cdrs)


class _Registry(BaseHTTPRequestHandler):
    """Confluent's GET /schemas/ids/{id}, answered from ccx's schema store."""

    store: Any
    asked: list[int]

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        status, body = 404, {"error_code": 40403, "message": "Schema not found"}
        if len(parts) == 3 and parts[:2] == ["schemas", "ids"] and parts[2].isdigit():
            self.asked.append(int(parts[2]))
            try:
                _subject, schema = self.store.lookup(int(parts[2]))
                status, body = 200, {"schema": schema}
            except KeyError:
                pass
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def registry_url(python_cdrs: dict[str, Any]) -> Iterator[tuple[str, list[int]]]:
    log, _serde = open_log(python_cdrs["log"])
    asked: list[int] = []
    handler = type("Registry", (_Registry,), {"store": log, "asked": asked})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", asked
    finally:
        server.shutdown()
        server.server_close()
        log.close()


def test_java_consumer_reads_cdrs_with_schemas_from_a_registry(
    consumer_jar: Path,
    kafka_broker: str,
    simulated: str,
    python_cdrs: dict[str, Any],
    registry_url: tuple[str, list[int]],
) -> None:
    url, asked = registry_url
    lines, stderr = _run_java(
        consumer_jar, kafka_broker, simulated, "--group", "from-registry", "--registry", url
    )
    _check(lines, stderr, python_cdrs)
    assert asked == [python_cdrs["schema_id"]]  # asked once, then cached
