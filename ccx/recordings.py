"""`ccx recordings search`: the recording catalog rebuilt from the log, searched.

The catalog folds the recorded `cc.recording-events`. When the recordings processor has
never run on this log (it is not in the default runner set), its decisions are re-made in
memory from its inputs first — the same decider over the same records in the runner's
order, so the same events — and folded instead.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ccx.bootstrap import open_log
from ccx.settings import Settings
from processors.recording_catalog import CatalogState, Entry, fold
from processors.recordings import RecordingsProcessor
from schemas.envelope import iso_ms
from streams import topics
from streams.replay import decisions

__all__ = ["as_dicts", "catalog_from_log", "render"]


def catalog_from_log(settings: Settings) -> CatalogState:
    """The catalog as the log has it now (recorded decisions, else re-made ones)."""
    log, serde = open_log(settings)
    state = CatalogState()
    try:
        for m in decisions(log, serde, RecordingsProcessor(), topics.RECORDING_EVENTS.name):
            state = fold(state, m)
        return state
    finally:
        log.close()


def render(entries: list[Entry]) -> str:
    """A fixed-width table, one recording a line."""
    head = ("recording", "contact", "agents", "queue", "started", "duration_s", "status", "location")
    rows = [head] + [
        (
            e.recording_id,
            e.contact_id,
            ",".join(e.agent_ids),
            e.queue_id,
            iso_ms(e.started_at),
            f"{e.duration_ms / 1000:.1f}",
            e.status,
            e.location,
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in rows
    )


def as_dicts(entries: list[Entry]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(e) for e in entries]
