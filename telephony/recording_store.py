"""The storage edge for recordings on a local directory: it files a finished recording
(and reports where: `RecordingStoredReported`), and deletes the file of every
`RecordingDeleted` — the effect the recordings decider only decides.

`LocalRecordingStore(root)` keeps files under `root` only: a location outside it (another
directory, another scheme such as `s3://`) is refused, never touched. Deleting is idempotent
(a file already gone is fine), so `RecordingDeleter`, a `streams.runner.Sink` over
`cc.recording-events`, may see a batch twice after a crash.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from schemas.envelope import Message
from schemas.recording_commands import RecordingStoredReported
from schemas.recordings import RecordingDeleted

__all__ = ["LocalRecordingStore", "OutsideStore", "RecordingDeleter"]


class OutsideStore(ValueError):
    """A location this store does not own (not `file://` under its root)."""


class LocalRecordingStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    def path_of(self, location: str) -> Path:
        """The file a `file://` location names, if it is under the root."""
        url = urlparse(location)
        if url.scheme != "file":
            raise OutsideStore(f"{location!r} is not a file:// location")
        path = Path(unquote(url.path)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise OutsideStore(f"{location!r} is not under {self.root}")
        return path

    def store(self, recording_id: str, source: Path | str) -> RecordingStoredReported:
        """Copy the switch's file into the store (`<root>/<recording_id><suffix>`) and the report."""
        source = Path(source)
        target = self.root / f"{recording_id.replace('/', '_')}{source.suffix}"
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        return RecordingStoredReported(
            recording_id, target.as_uri(), target.stat().st_size, f"sha256:{digest}"
        )

    def delete(self, location: str) -> bool:
        """Remove the file at `location`; False when it was already gone."""
        path = self.path_of(location)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


class RecordingDeleter:
    """Deletes the file of each `RecordingDeleted` whose location is in the store; others
    (never stored, or stored elsewhere) are left to the edge that owns them."""

    name = "recording-deleter"
    inputs: tuple[str, ...] = ("cc.recording-events",)

    def __init__(self, store: LocalRecordingStore) -> None:
        self.store = store
        self.deleted = 0

    def write(self, batch: Sequence[tuple[Any, Message[Any]]]) -> None:
        for _record, message in batch:
            body = message.body
            if isinstance(body, RecordingDeleted) and body.location:
                try:
                    self.deleted += self.store.delete(body.location)
                except OutsideStore:
                    continue
