"""`bench/warehouse.py` runs small: it loads, reports, and agrees with pandas. No timing asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_warehouse_bench_runs_and_agrees_with_pandas() -> None:
    args = ["--contacts", "20000", "--days", "3", "--agents", "8", "--chunk", "7000"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/warehouse.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"ingest: 20,000 contacts \+ 20,000 legs in [\d.]+ s = [\d,]+ contacts/s", out), out
    assert re.search(r"tallies: [\d,]+ rows", out), out
    labels = ("queue intervals, one day", "queue intervals, month", "month, from legs", "agent report")
    for label in labels:
        row = re.search(
            re.escape(label) + r".*?\s+([\d,]+)\s+([\d,.]+)\s+([\d,.]+)\s+([\d.]+)\s+(\w+)$", out, re.M
        )
        assert row and row.group(5) == "yes" and int(row.group(1).replace(",", "")) > 0, out
