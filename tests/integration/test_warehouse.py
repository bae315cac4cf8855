"""The warehouse port against real engines: migrations, round trip, the embedded lock.

Runs on embedded chDB; set CCX_TEST_CLICKHOUSE_URL=http://user:pass@127.0.0.1:8123/db to
run the port's contract tests against a ClickHouse server as well. chDB hosts one data
directory per process at a time, so each module opens its warehouse once and closes it
at the end; a different directory can be opened only after that.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analytics import WarehouseBusy, WarehouseError, open_warehouse
from analytics.lock import LOCK_NAME, acquire
from analytics.migrations import applied, load, migrate
from analytics.warehouse import ClickHouseWarehouse

ROOT = Path(__file__).resolve().parents[2]
API = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="module")
def embedded(chdb_dir: Path) -> Iterator[ClickHouseWarehouse]:
    with open_warehouse(f"chdb://{chdb_dir}", {"command": "ccx up", "api_url": API}) as wh:
        yield wh  # type: ignore[misc]


SERVER_URL = os.environ.get("CCX_TEST_CLICKHOUSE_URL")


@pytest.fixture(scope="module", params=["chdb", "server"] if SERVER_URL else ["chdb"])
def warehouse(request: pytest.FixtureRequest) -> Iterator[ClickHouseWarehouse]:
    if request.param == "chdb":
        yield request.getfixturevalue("embedded")
        return
    assert SERVER_URL
    with open_warehouse(SERVER_URL) as wh:
        yield wh  # type: ignore[misc]


def _python(code: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- the port's contract -------------------------------------------------------------


def test_migrations_are_recorded_in_order(warehouse: ClickHouseWarehouse) -> None:
    versions = [m.version for m in load()]
    assert versions == sorted(versions) and versions[0] == 1
    assert list(applied(warehouse)) == versions
    tables = {r[0] for r in warehouse.query_rows("SHOW TABLES")}
    assert {"schema_migrations", "raw_events", "contacts", "queues"} <= tables


def test_migrating_twice_changes_nothing(warehouse: ClickHouseWarehouse) -> None:
    def schema() -> list[tuple[object, ...]]:
        return warehouse.query_rows(
            "SELECT name, create_table_query FROM system.tables "
            "WHERE database = currentDatabase() ORDER BY name"
        )

    before, history = schema(), warehouse.query_rows("SELECT * FROM schema_migrations ORDER BY version")
    assert migrate(warehouse) == []
    assert migrate(warehouse) == []
    assert schema() == before
    assert warehouse.query_rows("SELECT * FROM schema_migrations ORDER BY version") == history


def test_an_edited_applied_migration_is_refused(warehouse: ClickHouseWarehouse) -> None:
    first = load()[0]
    columns = ("version", "name", "checksum", "applied_at")
    now = datetime.now(UTC)
    warehouse.insert("schema_migrations", [(first.version, first.name, "edited", now)], columns)
    try:
        with pytest.raises(RuntimeError, match="changed after it was applied"):
            migrate(warehouse)
    finally:
        warehouse.insert("schema_migrations", [(first.version, first.name, first.checksum, now)], columns)
    assert migrate(warehouse) == []


def test_round_trip(warehouse: ClickHouseWarehouse) -> None:
    warehouse.command("DROP TABLE IF EXISTS rt")
    warehouse.command(
        "CREATE TABLE rt (id UInt32, name String, at DateTime64(3, 'UTC'), score Nullable(Float64)) "
        "ENGINE = MergeTree ORDER BY id"
    )
    at = datetime(2024, 5, 1, 10, 15, 3, 123000, tzinfo=UTC)
    warehouse.insert("rt", [(1, "ä", at, 0.5), (2, "b", at, None)], ("id", "name", "at", "score"))
    warehouse.insert("rt", [], ("id", "name", "at", "score"))  # an empty batch is a no-op
    rows = warehouse.query_rows(
        "SELECT id, name, toUnixTimestamp64Milli(at), score FROM rt WHERE id >= {min:UInt32} ORDER BY id",
        {"min": 1},
    )
    assert rows == [(1, "ä", 1714558503123, 0.5), (2, "b", 1714558503123, None)]
    df = warehouse.query_df("SELECT id, name, score FROM rt ORDER BY id")
    assert list(df.columns) == ["id", "name", "score"]
    assert df["name"].tolist() == ["ä", "b"] and df["score"].isna().tolist() == [False, True]
    warehouse.command("DROP TABLE rt")


def test_bad_urls_are_refused() -> None:
    for url in ("ftp://host/db", "chdb://relative/dir", "chdb:///"):
        with pytest.raises(WarehouseError, match="chdb:///abs/dir"):
            open_warehouse(url)


# --- the embedded lock -----------------------------------------------------------------


def test_the_same_process_shares_its_open_directory(embedded: ClickHouseWarehouse, chdb_dir: Path) -> None:
    second = open_warehouse(f"chdb://{chdb_dir}")
    assert second.query_rows("SELECT count() FROM schema_migrations FINAL") == [(len(load()),)]
    second.close()
    assert embedded.query_rows("SELECT 1") == [(1,)]
    assert f'"pid": {os.getpid()}' in (chdb_dir / LOCK_NAME).read_text()


def test_chdb_hosts_one_directory_per_process(embedded: ClickHouseWarehouse, tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="one data directory per process"):
        open_warehouse(f"chdb://{tmp_path / 'other'}")
    assert embedded.query_rows("SELECT 1") == [(1,)]
    # the failed attempt released its lock: another process could take the directory now
    acquire(tmp_path / "other").release()


def test_a_second_process_gets_warehouse_busy(embedded: ClickHouseWarehouse, chdb_dir: Path) -> None:
    child = _python(
        f"""
        from analytics import WarehouseBusy, open_warehouse
        try:
            open_warehouse("chdb://{chdb_dir}")
        except WarehouseBusy as ex:
            print(ex)
        """
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    message = out.strip()
    assert message.startswith(f"warehouse {chdb_dir} is in use by pid {os.getpid()} (ccx up, started ")
    assert message.endswith(f"; stop it, or query its API at {API}")


def test_a_dead_owners_lock_is_taken_over(tmp_path: Path) -> None:
    child = _python(
        f"""
        import sys, time
        from analytics.lock import acquire
        acquire({str(tmp_path)!r}, {{"command": "ccx run sink"}})
        print("locked", flush=True)
        time.sleep(60)
        """
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    try:
        with pytest.raises(WarehouseBusy) as busy:
            acquire(tmp_path)
        assert str(busy.value).startswith(
            f"warehouse {tmp_path} is in use by pid {child.pid} (ccx run sink, "
        )
        assert str(busy.value).endswith("; stop it")  # no API to point to
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=10)
    held = acquire(tmp_path, {"command": "pytest"})  # the stale file stays; flock is free
    try:
        assert held.owner["pid"] == os.getpid()
        assert '"command": "pytest"' in (tmp_path / LOCK_NAME).read_text()
    finally:
        held.release()
    assert (tmp_path / LOCK_NAME).read_text() == ""
