"""The warehouse port and its one adapter over clickhouse-connect.

`open_warehouse(url)` picks the backend from the URL, and nothing else in ccx branches on
it: `chdb:///abs/dir` is the embedded engine (the default; the directory is locked for
this process, see `analytics.lock`), `http(s)://user:pass@host:port/db` a ClickHouse
server. Both are the same `clickhouse_connect` client class and the same code path. The
schema is migrated on open (`analytics.migrations`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

import clickhouse_connect
import pandas as pd
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ProgrammingError

from analytics import lock as _lock

__all__ = ["ClickHouseWarehouse", "Warehouse", "WarehouseError", "open_warehouse", "shareable"]

Params = dict[str, Any] | None


def shareable(url: str) -> bool:
    """Whether many processes may open this warehouse at once: a server yes; an embedded
    chDB directory has one owner (the process running its sink)."""
    return urlparse(url).scheme != "chdb"


class WarehouseError(RuntimeError):
    """The warehouse URL is unusable or the engine refused to open."""


class Warehouse(ABC):
    """What reports and the sink need from an analytical store.

    SQL may use ClickHouse server-side parameters: `{name:Type}` with `parameters={...}`.
    """

    url: str

    @abstractmethod
    def command(self, sql: str, parameters: Params = None) -> None:
        """Run DDL or another statement without a result set."""

    @abstractmethod
    def query_rows(self, sql: str, parameters: Params = None) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def query_df(self, sql: str, parameters: Params = None) -> pd.DataFrame: ...

    @abstractmethod
    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        """Insert `rows` (one sequence of values per row, in `columns` order) in one block."""

    @abstractmethod
    def insert_df(self, table: str, frame: pd.DataFrame) -> None:
        """Insert a DataFrame (columns named as the table's) in one block, column-wise:
        for bulk loads (imports, benchmarks), where building row tuples would dominate."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class ClickHouseWarehouse(Warehouse):
    """A `Warehouse` over a clickhouse-connect client (HTTP server or embedded chDB)."""

    def __init__(self, client: Client, url: str, held: _lock.DirectoryLock | None = None) -> None:
        self.url = url
        self._client = client
        self._use = threading.Lock()  # one call at a time: the sink and the API share a client
        self._held = held

    def command(self, sql: str, parameters: Params = None) -> None:
        with self._use:
            self._client.command(sql, parameters=parameters)

    def query_rows(self, sql: str, parameters: Params = None) -> list[tuple[Any, ...]]:
        with self._use:
            return [tuple(r) for r in self._client.query(sql, parameters=parameters).result_rows]

    def query_df(self, sql: str, parameters: Params = None) -> pd.DataFrame:
        with self._use:
            return self._client.query_df(sql, parameters=parameters)

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> None:
        if rows:
            with self._use:
                self._client.insert(table, list(rows), column_names=list(columns))

    def insert_df(self, table: str, frame: pd.DataFrame) -> None:
        if len(frame):
            with self._use:
                self._client.insert_df(table, frame)

    def close(self) -> None:
        client, held = self._client, self._held
        self._held = None
        try:
            client.close()
        finally:
            if held is not None:
                held.release()

    def __repr__(self) -> str:
        return f"ClickHouseWarehouse({_redact(self.url)!r})"


def open_warehouse(
    url: str, owner_info: dict[str, Any] | None = None, *, migrate: bool = True
) -> ClickHouseWarehouse:
    """Open (and migrate) the warehouse at `url`: `chdb:///abs/dir` or `http(s)://…`.

    `owner_info` (e.g. `{"command": "ccx up", "api_url": "http://127.0.0.1:8080"}`) is
    written into an embedded warehouse's lock file for the message a second process gets.
    Raises `WarehouseBusy` if another process owns the embedded directory.
    """
    parsed = urlparse(url)
    if parsed.scheme == "chdb":
        if parsed.netloc:
            raise WarehouseError(
                f"a chdb warehouse URL needs an absolute directory (chdb:///abs/dir), not {url!r}"
            )
        warehouse = _open_embedded(parsed.path, owner_info)
    elif parsed.scheme in ("http", "https"):
        try:
            warehouse = ClickHouseWarehouse(clickhouse_connect.get_client(dsn=url), url)
        except Exception as ex:
            raise WarehouseError(f"cannot reach ClickHouse at {_redact(url)}: {ex}") from ex
    else:
        raise WarehouseError(f"warehouse URL must be chdb:///abs/dir or http(s)://host:port/db, not {url!r}")
    if migrate:
        from analytics.migrations import migrate as run_migrations

        try:
            run_migrations(warehouse)
        except BaseException:
            warehouse.close()
            raise
    return warehouse


def _open_embedded(path: str, owner_info: dict[str, Any] | None) -> ClickHouseWarehouse:
    if not path.startswith("/") or path == "/":
        raise WarehouseError(
            f"a chdb warehouse URL needs an absolute directory (chdb:///abs/dir), not {path!r}"
        )
    directory = Path(path).resolve()
    held = _lock.acquire(directory, owner_info)
    try:
        client = clickhouse_connect.get_client(dsn=f"chdb://{directory}")
    except ProgrammingError as ex:
        held.release()
        raise WarehouseError(
            f"cannot open chDB warehouse {directory}: {ex} "
            "(chDB hosts one data directory per process; close the other warehouse first)"
        ) from ex
    except BaseException:
        held.release()
        raise
    return ClickHouseWarehouse(client, f"chdb://{directory}", held)


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@")).geturl()
    return url
