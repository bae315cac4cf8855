"""`ccx topics list|apply` on both backends: the registry against what the log really has."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

from click.testing import CliRunner

from ccx.cli import main
from streams import topics


def ccx(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_embedded_apply_creates_and_list_reports_every_registry_topic(tmp_path: Path) -> None:
    code, out = ccx("topics", "apply", "--data-dir", str(tmp_path), "--json")
    assert code == 0, out
    rows = {r["topic"]: r for r in json.loads(out)}
    assert set(rows) == {t.name for t in topics.ALL}
    assert all(r["status"] == "ok" and r["actual_partitions"] == r["partitions"] for r in rows.values())
    assert rows["cc.command-results"]["retention"] == "7 d" and rows["cc.cdr"]["public"] is True
    code, table = ccx("topics", "list", "--data-dir", str(tmp_path))
    assert code == 0 and table.splitlines()[0].split()[:3] == ["topic", "public", "partitions"]
    assert len(table.splitlines()) == 1 + len(topics.ALL)


def test_embedded_apply_names_a_topic_whose_partitions_differ(tmp_path: Path) -> None:
    assert ccx("topics", "apply", "--data-dir", str(tmp_path))[0] == 0
    with sqlite3.connect(tmp_path / "log.sqlite") as db:
        db.execute("UPDATE topics SET partitions = 3 WHERE name = 'cc.cdr'")
    code, out = ccx("topics", "apply", "--data-dir", str(tmp_path))
    assert code == 1
    assert "'cc.cdr' has 3 partitions" in out and "registry says 6" in out
    rows = {
        r["topic"]: r for r in json.loads(ccx("topics", "list", "--data-dir", str(tmp_path), "--json")[1])
    }
    assert rows["cc.cdr"]["status"] == "partition mismatch"


def test_kafka_list_shows_missing_then_apply_provisions_with_the_settings(
    kafka_broker: str, tmp_path: Path
) -> None:
    kafka = ["--backend", "kafka", "--bootstrap", kafka_broker, "--namespace", f"tp-{uuid.uuid4().hex[:8]}."]
    code, out = ccx("topics", "list", "--data-dir", str(tmp_path), *kafka, "--json")
    assert code == 0 and {r["status"] for r in json.loads(out)} == {"missing"}
    code, out = ccx("topics", "apply", "--data-dir", str(tmp_path), *kafka, "--json")
    assert code == 0, out
    rows = {r["topic"]: r for r in json.loads(out)}
    assert set(rows) == {t.name for t in topics.ALL}
    for t in topics.ALL:
        row = rows[t.name]
        assert (row["status"], row["actual_partitions"], row["replication_factor"]) == ("ok", t.partitions, 1)
        assert row["cleanup_policy"] == ("compact" if t.compacted else "delete")
        assert row["min_insync_replicas"] == "1"
        if not t.compacted:
            assert int(row["retention_ms"]) == t.retention_ms
    again = ccx("topics", "apply", "--data-dir", str(tmp_path), *kafka, "--json")
    assert again[0] == 0 and json.loads(again[1]) == json.loads(out)  # idempotent
