"""`ccx ami replay`: a recorded AMI stream through the adapter, its facts as JSON lines.

Reads raw wire text or a JSON list of event objects (detected from the first byte), runs
the very adapter a live switch feeds, and prints one JSON object per fact; frames it could
not parse or understand are reported on stderr as `FILE:LINE: reason` (they would be
dead-lettered on a live stream) and the replay goes on. Nothing else runs: no log, no
processors, no clock (a recording without `Timestamp`s gives `occurred_at` 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from schemas.system import DeadLetter
from telephony.ami.adapter import AmiAdapter, message_json
from telephony.ami.frames import read_recording

__all__ = ["replay"]


def replay(path: Path, data: bytes, tenant: str, out: TextIO, err: TextIO) -> dict[str, int]:
    """Replay the recording `data` (read from `path`) for `tenant`; facts to `out`, bad
    frames and a summary to `err`."""
    kind, items = read_recording(data)

    def report(reason: str, where: int) -> None:
        err.write(f"{path}:{where}: {reason}\n")

    adapter = AmiAdapter(tenant, f"ami:{path.name}", on_dead_letter=report)
    for message in adapter.feed_items(items):
        if not isinstance(message.body, DeadLetter):
            out.write(message_json(message) + "\n")
    s = adapter.stats
    summary = {
        "frames": s.frames,
        "facts": s.facts,
        "skipped": s.skipped,
        "duplicates": s.duplicates,
        "bad": s.dead_letters,
    }
    err.write(
        f"{path.name} ({kind}): {s.frames} messages, {s.facts} facts, {s.skipped} skipped "
        f"({s.duplicates} duplicates), {s.dead_letters} bad (would be dead-lettered)\n"
    )
    return summary
