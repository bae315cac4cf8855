"""Exactly-once under SIGKILL: a runner in a child process is killed at random points,
restarted, and run to completion; the log must hold exactly one output per input, in
order, and the same state and bytes as a run that was never interrupted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.counter import commands, counter_processor

from streams.embedded import EmbeddedLog
from streams.runner import Runner
from streams.serde import Serde
from streams.topics import ALL

N = 3000
KILLS = 5
TESTS_DIR = Path(__file__).resolve().parents[1]


def child(path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "helpers.crash_child", str(path)], env=env)


def progress(log: EmbeddedLog) -> int:
    return sum(log.committed("counter").values())


def fill(path: Path) -> tuple[EmbeddedLog, Serde]:
    log = EmbeddedLog(path)
    log.ensure_topics(ALL)
    serde = Serde(log)
    log.append([serde.out(c) for c in commands(N)])
    return log, serde


def test_sigkill_mid_batch_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    log, serde = fill(tmp_path / "crashed.sqlite")
    killed = 0
    for point in sorted(rng.sample(range(100, N - 300), KILLS)):
        proc = child(log.path)
        deadline = time.monotonic() + 60
        while progress(log) < point and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.01))
        proc.send_signal(signal.SIGKILL)
        killed += proc.wait() == -signal.SIGKILL
    assert killed >= 1, f"the child was never killed mid-run (seed {seed})"
    proc = child(log.path)
    assert proc.wait(timeout=120) == 0, f"seed {seed}"
    assert progress(log) == N, f"seed {seed}"

    # exactly one output per input, in input order, per partition
    for p in range(log.partitions("cc.commands")):
        inputs = [serde.decode(r.value).envelope.event_id for r in log.read("cc.commands", p, 0, N)]
        outputs = [serde.decode(r.value).envelope.causation_id for r in log.read("cc.agent-events", p, 0, N)]
        assert outputs == inputs, f"partition {p}, seed {seed}"
    assert log.end_offset("cc.dead-letter", 0) == 0

    # the same state and the same bytes as an uninterrupted run
    clean, clean_serde = fill(tmp_path / "clean.sqlite")
    with Runner(counter_processor(), clean, clean_serde) as uninterrupted:
        uninterrupted.run_until_idle()
    with Runner(counter_processor(), log, serde) as restored:
        assert restored.state == uninterrupted.state
        assert restored.state.count == N
    for t in ALL:
        for p in range(t.partitions):
            assert log.read(t.name, p, 0, 2 * N) == clean.read(t.name, p, 0, 2 * N), f"{t.name}/{p}"
    log.close()
    clean.close()
