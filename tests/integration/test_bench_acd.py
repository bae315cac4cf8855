"""`bench/acd.py` runs at tiny sizes, decides, prints every number, and the indexed ACD and the
scan baseline decide the same stream identically.

No wall-clock threshold: only that the benchmark runs, decides, and prints its numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


def test_the_acd_bench_runs_both_deciders_and_they_decide_the_same() -> None:
    args = ["--agents", "20,50", "--queues", "5", "--skills", "5", "--waiting", "30", "--commands", "300"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/acd.py"), *args, "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.startswith("ACD routing benchmark"), out
    for agents in ("20", "50"):
        assert f"== {agents} agents" in out, out
    # one row per decider: commands, decisions, commands/s, decisions/s, p50, p99
    rows = re.findall(rf"^(indexed|scan)\s+({NUMBER})\s+({NUMBER})(\s+{NUMBER}){{4}}\s*$", out, re.M)
    assert [r[0] for r in rows] == ["indexed", "scan", "indexed", "scan"], out
    for _label, commands, decisions, _ in rows:
        assert int(commands.replace(",", "")) == 300, out
        assert int(decisions.replace(",", "")) > 0, out
    assert len(re.findall(rf"speedup indexed/scan on the same 300 commands: x{NUMBER}", out)) == 2, out
    for command in ("RouteContact", "CompleteWrapUp", "Tick"):
        assert re.search(rf"^{command}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", out, re.M), command
    assert re.search(rf"^\s+50\s+{NUMBER}", out.split("growth with size")[1], re.M), out
    assert out.count("decisions identical: yes") == 3, out  # per size and overall
    assert "ERROR" not in out and "NO" not in out, out
