"""The embedded log: `EventLog` and `SchemaStore` in one SQLite file in WAL mode.

Tables: `records` (a global autoincrement `seq` gives one deterministic cross-topic order;
`(topic, partition, offset)` is unique), `topics` (partition counts), `group_offsets`
(committed positions), `snapshots` (one per group) and `schemas` (the schema registry).

Durability: every append and commit is one SQLite transaction in WAL mode. With
`synchronous="NORMAL"` (default) a returned transaction survives a `kill -9` of the
process (the WAL is written before the call returns) but the last transactions may be lost
if the *machine* loses power; `synchronous="FULL"` fsyncs the WAL on every commit and
survives that too, at a cost of one fsync per transaction.

Concurrency: one connection per thread (several runners of one process share a log
object), `busy_timeout` for contention and `BEGIN IMMEDIATE` for writes; several processes
may open the same file. One live consumer per group per file: a consumer holds an
exclusive `flock` on `<path>.<group>.lock` (released by the kernel when its process dies)
and a second one gets `LogBusy` naming the group, the file and the holder's pid. `commit`
itself does not fence: the group lock is what keeps one writer per group.
"""

from __future__ import annotations

import fcntl
import heapq
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from streams.partitioner import partition_for
from streams.ports import (
    Consumer,
    EventLog,
    LogBusy,
    OutRecord,
    Position,
    Record,
    Snapshot,
    TopicMismatch,
    TopicPartition,
)
from streams.serde import SchemaStore

__all__ = ["EmbeddedConsumer", "EmbeddedLog"]

_DDL = """
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    key BLOB NOT NULL, value BLOB NOT NULL,
    UNIQUE (topic, partition, "offset"));
CREATE INDEX IF NOT EXISTS records_by_topic ON records (topic, seq);
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (grp TEXT PRIMARY KEY, state BLOB NOT NULL, positions TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schemas (
    id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, schema TEXT NOT NULL,
    UNIQUE (subject, schema));
"""
_INSERT = 'INSERT INTO records (topic, partition, "offset", key, value) VALUES (?, ?, ?, ?, ?)'
_END = 'SELECT COALESCE(MAX("offset") + 1, 0) FROM records WHERE topic = ? AND partition = ?'
_SET_POSITION = (
    "INSERT INTO group_offsets (grp, topic, partition, next_offset) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (grp, topic, partition) DO UPDATE SET next_offset = excluded.next_offset"
)
_SET_SNAPSHOT = (
    "INSERT INTO snapshots (grp, state, positions) VALUES (?, ?, ?) "
    "ON CONFLICT (grp) DO UPDATE SET state = excluded.state, positions = excluded.positions"
)


class EmbeddedLog(EventLog, SchemaStore):
    """A durable partitioned log with consumer groups in one SQLite file."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL", busy_timeout_ms: int = 30_000):
        if synchronous.upper() not in ("NORMAL", "FULL", "OFF", "EXTRA"):
            raise ValueError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
        self.path = Path(path)
        self._synchronous = synchronous.upper()
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._partitions: dict[str, int] = {}
        self._consumers: list[EmbeddedConsumer] = []
        self._appended = threading.Condition()
        self._appends = 0
        with self._write() as db:
            for stmt in _DDL.split(";"):
                if stmt.strip():
                    db.execute(stmt)

    # -- connections and transactions

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, cached_statements=256
            )
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(f"PRAGMA synchronous = {self._synchronous}")
            self._local.db = db
            with self._lock:
                self._conns.append(db)
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it commits, or none of it is visible. Committed,
        it wakes this process's waiters (`wait_for_append`)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        with self._appended:
            self._appends += 1
            self._appended.notify_all()

    def append_mark(self) -> int:
        return self._appends

    def wait_for_append(self, mark: int, timeout_s: float) -> None:
        with self._appended:
            self._appended.wait_for(lambda: self._appends != mark, timeout_s)

    # -- topics

    def ensure_topics(self, topics: Sequence[object], *, strict: bool = False) -> None:
        rows = [(t.name, t.partitions) for t in topics]  # type: ignore[attr-defined]
        with self._write() as db:
            if strict:
                have = dict(db.execute("SELECT name, partitions FROM topics").fetchall())
                wrong = [
                    f"topic {name!r} has {have[name]} partitions in {self.path} but the registry says {n}"
                    for name, n in rows
                    if name in have and have[name] != n
                ]
                if wrong:
                    raise TopicMismatch("; ".join(wrong) + " (keys would land elsewhere)")
            db.executemany("INSERT OR IGNORE INTO topics (name, partitions) VALUES (?, ?)", rows)

    def partitions(self, topic: str) -> int:
        n = self._partitions.get(topic)
        if n is None:
            row = self._db().execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
            if row is None:
                raise KeyError(f"topic {topic!r} does not exist in {self.path} (ensure_topics first)")
            n = self._partitions[topic] = int(row[0])
        return n

    # -- writing

    def _insert(self, db: sqlite3.Connection, records: Sequence[OutRecord]) -> list[Record]:
        ends: dict[TopicPartition, int] = {}
        out: list[Record] = []
        for r in records:
            tp = (r.topic, partition_for(r.key, self.partitions(r.topic)))
            offset = ends.get(tp)
            if offset is None:
                offset = db.execute(_END, tp).fetchone()[0]
            ends[tp] = offset + 1
            out.append(Record(r.topic, tp[1], offset, r.key, r.value))
        db.executemany(_INSERT, [(r.topic, r.partition, r.offset, r.key, r.value) for r in out])
        return out

    def append(self, records: Sequence[OutRecord]) -> list[Record]:
        if not records:
            return []
        with self._write() as db:
            return self._insert(db, records)

    def commit(
        self,
        group: str,
        outputs: Sequence[OutRecord],
        positions: Position,
        snapshot: Snapshot | None = None,
    ) -> None:
        with self._write() as db:
            self._insert(db, outputs)
            db.executemany(_SET_POSITION, [(group, t, p, o) for (t, p), o in positions.items()])
            if snapshot is not None:
                db.execute(_SET_SNAPSHOT, (group, snapshot.state, _positions_json(snapshot.positions)))

    # -- reading

    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Record]:
        rows = self._db().execute(
            'SELECT "offset", key, value FROM records WHERE topic = ? AND partition = ? AND "offset" >= ? '
            'ORDER BY "offset" LIMIT ?',
            (topic, partition, offset, limit),
        )
        return [Record(topic, partition, o, k, v) for o, k, v in rows]

    def end_offset(self, topic: str, partition: int) -> int:
        return int(self._db().execute(_END, (topic, partition)).fetchone()[0])

    def committed(self, group: str) -> dict[TopicPartition, int]:
        rows = self._db().execute(
            "SELECT topic, partition, next_offset FROM group_offsets WHERE grp = ?", (group,)
        )
        return {(t, p): o for t, p, o in rows}

    def load_snapshot(self, group: str) -> Snapshot | None:
        row = self._db().execute("SELECT state, positions FROM snapshots WHERE grp = ?", (group,)).fetchone()
        if row is None:
            return None
        return Snapshot(bytes(row[0]), {(t, p): o for t, p, o in json.loads(row[1])})

    def consumer(self, group: str, topics: Sequence[str]) -> EmbeddedConsumer:
        consumer = EmbeddedConsumer(self, group, tuple(topics), self._take_group(group))
        with self._lock:
            self._consumers.append(consumer)
        return consumer

    def _lock_path(self, group: str) -> str:
        return f"{self.path}.{re.sub(r'[^A-Za-z0-9._-]', '_', group)}.lock"

    def group_in_use(self, group: str) -> bool:
        with self._lock:
            if any(c.group == group and c.holds_group for c in self._consumers):
                return True
        if not os.path.exists(self._lock_path(group)):
            return False
        fd = os.open(self._lock_path(group), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing releases a lock taken just now
        return False

    def _take_group(self, group: str) -> int:
        lock_path = self._lock_path(group)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LogBusy(
                f"group {group!r} of {self.path} is already consumed by pid {holder} (lock {lock_path})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return fd

    # -- the schema registry

    def register(self, subject: str, schema_json: str) -> int:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO schemas (subject, schema) VALUES (?, ?)", (subject, schema_json)
            )
            row = db.execute(
                "SELECT id FROM schemas WHERE subject = ? AND schema = ?", (subject, schema_json)
            ).fetchone()
        return int(row[0])

    def lookup(self, schema_id: int) -> tuple[str, str]:
        row = self._db().execute("SELECT subject, schema FROM schemas WHERE id = ?", (schema_id,)).fetchone()
        if row is None:
            raise KeyError(schema_id)
        return str(row[0]), str(row[1])

    def close(self) -> None:
        with self._lock:
            consumers, self._consumers = self._consumers, []
            conns, self._conns = self._conns, []
        for c in consumers:
            c.close()
        for db in conns:
            db.close()
        self._local = threading.local()


def _positions_json(positions: Position) -> str:
    return json.dumps(sorted([t, p, o] for (t, p), o in positions.items()))


class EmbeddedConsumer(Consumer):
    """Reads all partitions of its topics in the log's global `seq` order."""

    def __init__(self, log: EmbeddedLog, group: str, topics: tuple[str, ...], lock_fd: int) -> None:
        self._log = log
        self.group = group
        self._topics = topics
        self._lock_fd: int | None = lock_fd
        try:
            committed = log.committed(group)
            self._pos = {(t, p): committed.get((t, p), 0) for t in topics for p in range(log.partitions(t))}
        except BaseException:
            self.close()
            raise
        self._cursor: dict[str, int] = {}
        self._seek_cursors()

    def _seek_cursors(self) -> None:
        """Per topic, the seq after which its unread records start."""
        db = self._log._db()
        top = db.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0]
        for t in self._topics:
            seqs = [
                row[0]
                for (topic, p), o in self._pos.items()
                if topic == t
                for row in db.execute(
                    'SELECT seq FROM records WHERE topic = ? AND partition = ? AND "offset" = ?', (t, p, o)
                )
            ]
            self._cursor[t] = min(seqs) - 1 if seqs else top

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        while True:
            out = self._fetch(max_records)
            remaining = deadline - time.monotonic()
            if out or remaining <= 0:
                return out
            time.sleep(min(0.01, remaining))

    def _fetch(self, max_records: int) -> list[Record]:
        db = self._log._db()
        out: list[Record] = []
        while len(out) < max_records:
            need = max_records - len(out)
            chunks: list[list[tuple[int, str, int, int, bytes, bytes]]] = []
            bound: int | None = None
            for t in self._topics:
                rows = db.execute(
                    'SELECT seq, topic, partition, "offset", key, value FROM records '
                    "WHERE topic = ? AND seq > ? ORDER BY seq LIMIT ?",
                    (t, self._cursor[t], need),
                ).fetchall()
                chunks.append(rows)
                if len(rows) == need:  # more may follow: merge only up to its last seq
                    bound = rows[-1][0] if bound is None else min(bound, rows[-1][0])
            if not any(chunks):
                break
            for seq, t, p, o, k, v in heapq.merge(*chunks):
                if (bound is not None and seq > bound) or len(out) == max_records:
                    break
                self._cursor[t] = seq
                if o >= self._pos[(t, p)]:
                    out.append(Record(t, p, o, k, v))
                    self._pos[(t, p)] = o + 1
        return out

    def positions(self) -> dict[TopicPartition, int]:
        return dict(self._pos)

    def seek(self, positions: Position) -> None:
        for tp, o in positions.items():
            if tp in self._pos:
                self._pos[tp] = o
        self._seek_cursors()

    @property
    def holds_group(self) -> bool:
        return self._lock_fd is not None

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
