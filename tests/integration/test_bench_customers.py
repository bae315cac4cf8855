"""`bench/customers.py` runs at a tiny size, finds callers, and prints every number.

No wall-clock threshold: only that the benchmark runs, looks up, and prints its numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


def test_the_screen_pop_bench_runs_and_prints_its_numbers() -> None:
    args = ["--customers", "2000", "--contacts", "500", "--tickets", "100", "--lookups", "500"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/customers.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.startswith("Screen-pop benchmark"), out
    assert re.search(rf"^build: {NUMBER} events folded", out, re.M), out
    found = re.search(rf"^found ({NUMBER}) of 500 callers", out, re.M)
    assert found and int(found.group(1).replace(",", "")) > 0, out
    for kind in ("e164", "national", "intl-00", "email", "unknown", "all"):
        assert re.search(rf"^{kind}\s+{NUMBER}(\s+{NUMBER}){{4}}\s*$", out, re.M), kind
