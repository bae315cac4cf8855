"""The exclusive lock on an embedded (chDB) warehouse directory.

chDB lets one process own a data directory. The owner holds an `fcntl.flock` on
`<dir>/.ccx-warehouse.lock` and writes who it is into the file (JSON: pid, command,
started_at, api_url), so a second process fails fast with a message a person can act on.
The kernel drops the lock when the owner dies, so a stale file is simply taken over.
Within one process the lock is shared and counted, since chDB itself allows any number of
clients on the directory its engine already has open.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["LOCK_NAME", "DirectoryLock", "WarehouseBusy", "acquire", "busy_message"]

LOCK_NAME = ".ccx-warehouse.lock"

_guard = threading.Lock()
_held: dict[Path, DirectoryLock] = {}


class WarehouseBusy(RuntimeError):
    """Another live process owns the embedded warehouse directory."""


@dataclass
class DirectoryLock:
    """A held lock; `release()` once per `acquire()`."""

    directory: Path
    fd: int
    owner: dict[str, Any]
    count: int = field(default=1)

    def release(self) -> None:
        with _guard:
            self.count -= 1
            if self.count > 0:
                return
            _held.pop(self.directory, None)
            try:
                os.ftruncate(self.fd, 0)  # before unlocking, so a new owner's info survives
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)


def busy_message(directory: Path, owner: dict[str, Any]) -> str:
    """The sentence a second process shows; the API part only when the owner serves one."""
    pid = owner.get("pid", "unknown")
    started = f"started {owner['started_at']}" if owner.get("started_at") else None
    what = ", ".join(str(v) for v in (owner.get("command"), started) if v)
    text = f"warehouse {directory} is in use by pid {pid}" + (f" ({what})" if what else "") + "; stop it"
    if owner.get("api_url"):
        text += f", or query its API at {owner['api_url']}"
    return text


def acquire(directory: str | os.PathLike[str], owner_info: dict[str, Any] | None = None) -> DirectoryLock:
    """Take the directory's lock (creating the directory) or raise `WarehouseBusy`."""
    path = Path(directory).resolve()
    with _guard:
        held = _held.get(path)
        if held is not None:
            held.count += 1
            return held
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            raise WarehouseBusy(busy_message(path, owner)) from None
        owner = {
            "pid": os.getpid(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **(owner_info or {}),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        os.fsync(fd)
        lock = _held[path] = DirectoryLock(path, fd, owner)
        return lock


def _read_owner(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 65536, 0) or b"{}")
    except ValueError:  # the owner is between lock and write
        return {}
    return data if isinstance(data, dict) else {}
