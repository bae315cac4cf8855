"""The key vault: one random data key per personal-data subject, outside the log (ADR 20).

A subject is a customer (`customer:<tenant>:<id>`) or a phone number / email address
(`phone:<tenant>:<E.164>`, `email:<tenant>:<address>`; `schemas.personal`). Its key is 32
random bytes under a random key id (the id, never the subject, is what the log carries),
created on first use and stored in a SQLite file beside the embedded log (`keys.sqlite`;
on Kafka the same file for now). `erase(subjects)` deletes the keys for good
(`secure_delete`, WAL truncated), which makes every value encrypted with them unreadable;
a key once deleted is never made again — a later value of the same subject gets a new key.

Cache: keys live in memory (bounded) once read. An erasure writes a tombstone. At most every
`recheck_s` seconds (0.1 by default) a vault asks SQLite whether another connection
committed since (`PRAGMA data_version`, no table read); if so it reads the new tombstones
and forgets those keys. So a process decrypts with an erased key at most `recheck_s` after
another process erased it (the erasing vault forgets at once; `refresh()` forces the check).

Durability: a new key is committed (its own transaction, WAL mode, `synchronous=NORMAL`:
it survives a `kill -9`) before the value encrypted with it is returned to be appended.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

__all__ = ["KeyVault"]

_DDL = """
CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, subject TEXT NOT NULL UNIQUE, key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS erased (seq INTEGER PRIMARY KEY AUTOINCREMENT, key_id TEXT NOT NULL);
"""
_CHUNK = 500  # SQLite's variable limit is far above; keeps statements small


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class KeyVault:
    """Data keys by subject and by key id, in one SQLite file; safe to share between threads."""

    def __init__(self, path: str | Path, *, cache_size: int = 200_000, recheck_s: float = 0.1) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.executescript(_DDL)
        self._lock = threading.Lock()
        self._cache_size = cache_size
        self._by_subject: dict[str, str] = {}
        self._by_id: dict[str, bytes] = {}
        self._tombstone = self._last_tombstone()
        self._version = self._data_version()
        self._recheck_s = recheck_s
        self._next_check = time.monotonic() + recheck_s
        self.created = 0
        """Keys this vault created (a number for benchmarks)."""

    # ---- keys

    def keys_for(self, subjects: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """(key id, key) of every subject, creating the missing ones in one transaction."""
        wanted = set(subjects)
        with self._lock:
            self._forget_erased()
            out: dict[str, tuple[str, bytes]] = {}
            missing: list[str] = []
            for s in wanted:
                kid = self._by_subject.get(s)
                key = self._by_id.get(kid) if kid else None
                if kid and key:
                    out[s] = (kid, key)
                else:
                    missing.append(s)
            if missing:
                out.update(self._load_or_create(missing))
            return out

    def key(self, key_id: str) -> bytes | None:
        """The key with this id, or None if it was erased (or never existed)."""
        with self._lock:
            self._forget_erased()
            key = self._by_id.get(key_id)
            if key is None:
                row = self._db.execute("SELECT key FROM keys WHERE key_id = ?", (key_id,)).fetchone()
                if row is None:
                    return None
                key = self._remember_id(key_id, bytes(row[0]))
            return key

    def key_ids(self, subjects: Iterable[str]) -> tuple[str, ...]:
        """The ids of the keys the vault holds for these subjects (absent ones skipped)."""
        found: list[str] = []
        for part in _chunks(sorted(set(subjects))):
            marks = ",".join("?" * len(part))
            found += [
                r[0] for r in self._db.execute(f"SELECT key_id FROM keys WHERE subject IN ({marks})", part)
            ]
        return tuple(sorted(found))

    def erase(self, subjects: Iterable[str]) -> tuple[str, ...]:
        """Delete the keys of `subjects` for good; the ids of the keys deleted."""
        names = sorted(set(subjects))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                ids: list[str] = []
                for part in _chunks(names):
                    marks = ",".join("?" * len(part))
                    ids += [
                        r[0]
                        for r in self._db.execute(f"SELECT key_id FROM keys WHERE subject IN ({marks})", part)
                    ]
                    self._db.execute(f"DELETE FROM keys WHERE subject IN ({marks})", part)
                self._db.executemany("INSERT INTO erased (key_id) VALUES (?)", [(k,) for k in ids])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no old page left in the WAL
            for kid in ids:
                self._by_id.pop(kid, None)
            for s in names:
                self._by_subject.pop(s, None)
            return tuple(sorted(ids))

    def refresh(self) -> None:
        """Forget the keys other processes erased, now (not only every `recheck_s`)."""
        with self._lock:
            self._next_check = 0.0
            self._forget_erased()

    def close(self) -> None:
        self._db.close()

    # ---- internals (called with the lock held)

    def _load_or_create(self, subjects: list[str]) -> dict[str, tuple[str, bytes]]:
        out: dict[str, tuple[str, bytes]] = {}
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for part in _chunks(subjects):
                marks = ",".join("?" * len(part))
                sql = f"SELECT subject, key_id, key FROM keys WHERE subject IN ({marks})"
                for subject, kid, key in self._db.execute(sql, part):
                    out[subject] = (kid, bytes(key))
            new = [(uuid.uuid4().hex, s, os.urandom(32)) for s in subjects if s not in out]
            self._db.executemany("INSERT INTO keys (key_id, subject, key) VALUES (?, ?, ?)", new)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self.created += len(new)
        for kid, s, key in new:
            out[s] = (kid, key)
        for s, (kid, key) in out.items():
            self._remember_id(kid, key)
            self._by_subject[s] = kid
        return out

    def _remember_id(self, key_id: str, key: bytes) -> bytes:
        if len(self._by_id) >= self._cache_size:  # bounded: start over (amortised, rare)
            self._by_id.clear()
            self._by_subject.clear()
        self._by_id[key_id] = key
        return key

    def _last_tombstone(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM erased").fetchone()[0])

    def _data_version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _forget_erased(self) -> None:
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + self._recheck_s
        version = self._data_version()
        if version == self._version:
            return
        self._version = version
        rows = self._db.execute("SELECT seq, key_id FROM erased WHERE seq > ?", (self._tombstone,)).fetchall()
        if not rows:
            return
        self._tombstone = max(seq for seq, _ in rows)
        gone = {kid for _, kid in rows}
        for kid in gone:
            self._by_id.pop(kid, None)
        for s in [s for s, kid in self._by_subject.items() if kid in gone]:
            del self._by_subject[s]
