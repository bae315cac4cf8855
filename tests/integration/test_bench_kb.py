"""`bench/kb.py` runs at a tiny size and prints its header and numbers (never timed assertions)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


def test_the_kb_bench_runs_and_prints_latency() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/kb.py"), "--articles", "300", "--queries", "50"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.startswith("KB search benchmark"), out
    assert "index 300 articles" in out, out
    assert re.search(rf"^all(\s+{NUMBER}){{7}}\s*$", out, re.M), out
