"""`bench/api.py` runs at a tiny size against the real in-process server and prints its numbers.

No wall-clock threshold: only that the benchmark runs, every command answers 200 with its
events, every wallboard client sees every change, and each number line is printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


def test_the_api_bench_runs_and_prints_round_trips_and_staleness() -> None:
    args = ["--agents", "10", "--clients", "5", "--commands", "50", "--events", "3", "--quiet"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/api.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.startswith("API benchmark"), out
    assert re.search(
        r"^setup: 10 agents defined and logged in through the API \(22 round trips\)", out, re.M
    ), out
    trips = re.search(rf"^ready/not\s+(50)((?:\s+{NUMBER}){{5}})\s+(\d+)\s*$", out, re.M)
    assert trips, out
    assert trips.group(3) == "0", out  # every command answered 200 with its events
    stale = re.search(rf"^wallboard\s+(15)\s+(\d+)((?:\s+{NUMBER}){{4}})\s+({NUMBER})\s*$", out, re.M)
    assert stale, out
    assert stale.group(2) == "0", out  # each of 5 clients saw each of 3 changes
    assert re.search(r"^5 clients connected in .* 3 events over", out, re.M), out
    assert "[bench-api]" not in done.stderr, done.stderr  # --quiet: no progress lines
