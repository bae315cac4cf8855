"""Crash and restart of the real ACD runner in its own process (`ccx run acd`).

A simulation's commands are copied into a fresh log; `ccx run acd` decides them and is
killed with SIGKILL right after it commits a batch, again and again, and restarted until
done. Every decision must then be byte-for-byte the one an uninterrupted run recorded: no
duplicate, nothing missing, same order."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from streams import topics
from streams.embedded import EmbeddedLog
from streams.ports import OutRecord

OUTPUTS = ("cc.contact-events", "cc.agent-events", "cc.config-events", "cc.command-results", "cc.dead-letter")


def ccx(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ccx.cli", *args], stderr=subprocess.PIPE, text=True)


def dump(path: Path, names: tuple[str, ...]) -> dict[tuple[str, int], list[tuple[int, bytes, bytes]]]:
    log = EmbeddedLog(path)
    try:
        out = {}
        for name in names:
            for p in range(log.partitions(name)):
                out[(name, p)] = [(r.offset, r.key, r.value) for r in log.read(name, p, 0, 1_000_000)]
        return out
    finally:
        log.close()


def test_sigkilled_acd_restarts_without_duplicate_or_missing_decision(tmp_path: Path) -> None:
    original, crashed = tmp_path / "original", tmp_path / "crashed"
    sim = ccx(
        "simulate", "--data-dir", str(original), "--agents", "30", "--queues", "3",
        "--rate", "900/h", "--duration", "1h", "--seed", "11", "--no-warehouse", "--json",
    )  # fmt: skip
    assert sim.wait(timeout=300) == 0, sim.stderr.read() if sim.stderr else ""

    source = EmbeddedLog(original / "log.sqlite")
    crashed.mkdir()
    # The personal-data keys travel with the log (ADR 20): without them the callers' numbers
    # in the copied commands read as erased.
    shutil.copy(original / "keys.sqlite", crashed / "keys.sqlite")
    target = EmbeddedLog(crashed / "log.sqlite")
    target.ensure_topics(topics.ALL)
    n_commands = 0
    for p in range(source.partitions(topics.COMMANDS.name)):
        records = source.read(topics.COMMANDS.name, p, 0, 1_000_000)
        n_commands += len(records)
        target.append([OutRecord(r.topic, r.key, r.value) for r in records])
    source.close()

    kills = 0
    mid_run_kills = 0
    while True:
        before = sum(target.committed("acd").values())
        if before >= n_commands:
            break
        proc = ccx("run", "acd", "--data-dir", str(crashed), "--until-idle", "--batch-size", "25")
        if kills < 5:
            deadline = time.time() + 120
            while sum(target.committed("acd").values()) <= before and proc.poll() is None:
                assert time.time() < deadline, "the runner made no progress"
                time.sleep(0.002)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            mid_run_kills += sum(target.committed("acd").values()) < n_commands
        else:
            assert proc.wait(timeout=300) == 0
    target.close()

    assert mid_run_kills >= 3, "the kills must land while there was work left"
    assert dump(crashed / "log.sqlite", OUTPUTS) == dump(original / "log.sqlite", OUTPUTS)
