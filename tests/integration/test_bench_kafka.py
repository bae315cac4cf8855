"""Smoke test of `bench/kafka.py --quick --json` against the session's real broker: it runs
to the end and reports every number, positive, with p50 <= p99. No wall-clock thresholds
(benchmarks print numbers; tests never time things)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NUMBERS = {
    "raw": ("records", "produce_rate", "consume_rate", "produce_seconds", "consume_seconds"),
    "pipeline": (
        *("input_records", "output_events", "transactions", "seconds", "input_rate", "output_rate"),
        *("seconds_decide", "seconds_serde", "seconds_commit"),
    ),
    "latency_ms": ("samples", "p50", "p99", "max", "mean", "commit_p50", "commit_p99"),
    "ratio": ("pipeline_over_raw", "input_over_raw_consume", "output_over_raw_produce"),
    "records": ("commands", "decisions", "command_bytes_mean", "decision_bytes_mean"),
}


def test_bench_kafka_quick_reports_every_number(kafka_broker: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "kafka.py"), "--quick", "--json", "--bootstrap", kafka_broker],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout)
    for section, keys in NUMBERS.items():
        for key in keys:
            value = result[section][key]
            assert isinstance(value, int | float) and value > 0, (section, key, value)
    lat = result["latency_ms"]
    assert lat["p50"] <= lat["p99"] <= lat["max"]
    assert result["pipeline"]["input_records"] == result["records"]["commands"]
    assert result["pipeline"]["output_events"] == result["records"]["decisions"]
    assert result["pipeline"]["dead_letters"] == 0
