"""`bench/ami.py` runs at a tiny size, prints the parse, map and adapter rows and its summary,
and every stage saw the same frames and facts.

Data: the real AMI recordings under `../shared/data/ami/` (cacofonisk and goami2, both MIT;
see that folder's README), read in place by the benchmark. No wall-clock threshold: only that
the benchmark runs and prints its numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


def test_the_ami_bench_runs_and_prints_its_numbers() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/ami.py"), "--events", "3000", "--repeat", "1", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.startswith("AMI adapter benchmark"), out
    assert re.search(r"\d+ CPUs", out.splitlines()[0]), out
    rows = re.findall(rf"^(parse|map|adapter)\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})", out, re.M)
    assert [r[0] for r in rows] == ["parse", "map", "adapter"], out
    assert len({r[1] for r in rows}) == 1 and int(rows[0][1].replace(",", "")) >= 3000, out
    assert re.search(
        rf"translates {NUMBER} AMI events/s beside a raw parse rate of {NUMBER} frames/s", out
    ), out
    assert "same frames and facts in every stage: yes" in out, out
    assert done.stderr == ""
