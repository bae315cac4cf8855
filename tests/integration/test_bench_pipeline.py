"""`bench/pipeline.py` runs on a small simulation and measures decisions, not dead letters.

No wall-clock threshold: only that the benchmark runs, decides, and prints every number."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_pipeline_bench_runs_and_every_decision_is_a_decision() -> None:
    args = ["--agents", "5", "--queues", "1", "--rate", "120/h", "--duration", "10m"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/pipeline.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    decisions = re.search(r"ACD decisions\s+([\d,]+)\s+\(dead letters: 0\)", out)
    assert decisions and int(decisions.group(1).replace(",", "")) > 100, out
    for label in (
        "closed-loop throughput",
        "batch pipeline throughput",
        "raw log append+read",
        "batch pipeline / raw log",
    ):
        assert re.search(re.escape(label) + r"\s+[\d,.]+", out), label
