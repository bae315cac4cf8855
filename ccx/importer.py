"""`ccx import calls`: append a historical call log's events and let the pipeline file them.

Reads and checks the file with `analytics.call_import`, refuses a file whose events are
already in the log, appends the events in batches (with a progress bar), writes the
rejected rows to a CSV when asked, and, when no other process runs the CDR builder, live
stats and warehouse sink (`EventLog.group_in_use`), runs them here until idle so reports
see the history at once.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from analytics.call_import import load_mapping, read_calls
from ccx.bootstrap import open_log, open_pipeline
from ccx.settings import Settings
from streams import topics
from streams.tail import read_all

__all__ = ["AlreadyImported", "import_calls"]

BATCH = 5000


class AlreadyImported(RuntimeError):
    """The log already holds this file's events."""


def import_calls(
    settings: Settings,
    file: Path,
    mapping_path: Path,
    *,
    rejects: Path | None = None,
    process: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    mapping = load_mapping(mapping_path)
    report, messages = read_calls(file, mapping)
    if rejects is not None:
        with rejects.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["line", "call_id", "reason"])
            w.writerows((r.line, r.call_id, r.reason) for r in report.rejected)
    log, serde = open_log(settings)
    try:
        ids = {m.envelope.event_id for m in messages[:1000]}
        if any(m.envelope.event_id in ids for _r, m in read_all(log, serde, [topics.CONTACT_EVENTS.name])):
            raise AlreadyImported(
                f"{file.name} is already in the log (tenant {mapping.tenant!r}); nothing appended"
            )
        bar = tqdm(total=len(messages), unit="event", desc="import", disable=not progress, file=sys.stderr)
        for i in range(0, len(messages), BATCH):
            batch = messages[i : i + BATCH]
            log.append([serde.out(m) for m in batch])
            bar.update(len(batch))
        bar.close()
        busy = [g for g in ("cdr", "stats", "sink") if log.group_in_use(g)]
    finally:
        log.close()
    summary = report.summary()
    summary["tenant"] = mapping.tenant
    summary["source"] = mapping.source
    if process and not busy:
        pipeline = open_pipeline(settings, runners=("cdr", "stats", "sink"))
        try:
            summary["records_processed"] = pipeline.run_until_idle()
        finally:
            pipeline.close()
    else:
        summary["processed_by"] = f"the running {', '.join(busy)}" if busy else "nobody (--no-process)"
    return summary
