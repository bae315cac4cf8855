"""A simulation is a pure function of its seed: same options, byte-identical logs (personal
fields compared opened: each data directory has its own random keys, ADR 20); and, on
both backends, the end-of-run state holds conservation when callers are still waiting (no
drain) and a second simulation into a used log is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from streams import topics
from streams.embedded import EmbeddedLog
from streams.keyvault import KeyVault
from streams.serde import Serde

pytestmark = pytest.mark.slow

ARGS = ["--agents", "12", "--queues", "2", "--rate", "400/h", "--duration", "30m", "--no-warehouse", "--json"]


def simulate(data: Path, *extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "ccx.cli", "simulate", "--data-dir", str(data), *ARGS, *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.fixture(params=["embedded", "kafka"])
def backend(request: pytest.FixtureRequest) -> list[str]:
    """The options that select the backend (a fresh namespace on the real broker for Kafka)."""
    if request.param == "embedded":
        return []
    bootstrap = request.getfixturevalue("kafka_broker")
    return ["--backend", "kafka", "--bootstrap", bootstrap, "--namespace", f"det-{uuid.uuid4().hex[:8]}"]


def records(path: Path) -> list[tuple[str, int, int, bytes, bytes]]:
    """Every record; a value with personal fields as the plaintext encoding of what it opens to."""
    log = EmbeddedLog(path / "log.sqlite")
    vault = KeyVault(path / "keys.sqlite")
    sealed, plain = Serde(log, vault), Serde(log)
    try:
        return [
            (r.topic, r.partition, r.offset, r.key, plain.encode(sealed.decode(r.value)))
            for t in topics.ALL
            for p in range(log.partitions(t.name))
            for r in log.read(t.name, p, 0, 1_000_000)
        ]
    finally:
        vault.close()
        log.close()


def test_same_seed_same_log_byte_for_byte(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", "--seed", "3")
    b = simulate(tmp_path / "b", "--seed", "3")
    c = simulate(tmp_path / "c", "--seed", "4")
    assert a == b
    log_a, log_b = records(tmp_path / "a"), records(tmp_path / "b")
    assert len(log_a) > 1000 and log_a == log_b
    assert records(tmp_path / "c") != log_a and c != a


def test_a_second_simulation_into_the_same_log_is_refused(tmp_path: Path, backend: list[str]) -> None:
    simulate(tmp_path / "a", "--seed", "3", "--duration", "5m", *backend)
    done = subprocess.run(
        [sys.executable, "-m", "ccx.cli", "simulate", "--data-dir", str(tmp_path / "a"), *ARGS, *backend],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0 and "already holds a log" in done.stderr


def test_conservation_with_callers_still_waiting(tmp_path: Path, backend: list[str]) -> None:
    summary = simulate(
        tmp_path / "busy", "--seed", "5", "--no-drain", "--agents", "4", "--rate", "600/h", *backend
    )
    assert summary["waiting"] > 0
    for q in summary["queues"]:
        resolved = q["answered"] + q["abandoned"] + q["overflowed"] + q["timed_out"] + q["callback"]
        assert q["offered"] == resolved + q["waiting"], q
