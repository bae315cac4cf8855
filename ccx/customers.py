"""`ccx customers import`: append a customer CSV as `DefineCustomer` commands.

Reads and checks the file with `analytics.customer_import`, writes the rejected rows (line,
customer id, field, reason) to a CSV when asked, appends the good rows' commands to
`cc.commands`, and, when no other process runs the customers processor
(`EventLog.group_in_use`), runs it here until idle and adds the commands it refused (a
number another customer already owns) to the rejected rows, so the report is complete.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from analytics.customer_import import ImportReport, RejectedRow, read_customers
from ccx.bootstrap import open_log, open_pipeline
from ccx.settings import Settings
from processors.customers import customers_processor
from schemas.system import CommandRejected
from streams import topics
from streams.tail import read_all

__all__ = ["import_customers", "write_rejects"]

BATCH = 5000


def write_rejects(path: Path, report: ImportReport) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["line", "customer_id", "field", "reason"])
        w.writerows(
            (r.line, r.customer_id, r.field, r.reason) for r in sorted(report.rejected, key=lambda r: r.line)
        )


def import_customers(
    settings: Settings,
    file: Path,
    *,
    region: str = "",
    rejects: Path | None = None,
    process: bool = True,
    now_ms: int | None = None,
) -> tuple[ImportReport, dict[str, Any]]:
    """Append the file's good rows; the report (rows rejected and why) and a summary."""
    at = int(time.time() * 1000) if now_ms is None else now_ms
    report, commands = read_customers(file, tenant=settings.tenant, at_ms=at, region=region)
    log, serde = open_log(settings)
    try:
        for i in range(0, len(commands), BATCH):
            log.append([serde.out(m) for m in commands[i : i + BATCH]])
        busy = log.group_in_use("customers")
    finally:
        log.close()
    summary: dict[str, Any] = {"tenant": settings.tenant, "appended": len(commands)}
    if process and not busy and commands:
        ours = {m.envelope.event_id: m.body.customer_id for m in commands}
        pipeline = open_pipeline(
            settings,
            with_warehouse=False,
            runners=("customers",),
            processors={"customers": customers_processor()},
        )
        try:
            summary["records_processed"] = pipeline.run_until_idle()
            for _r, m in read_all(pipeline.log, pipeline.serde, [topics.COMMAND_RESULTS.name]):
                body = m.body
                if isinstance(body, CommandRejected) and body.command_id in ours:
                    cid = ours.pop(body.command_id)  # once, though an earlier import was refused too
                    field = body.reason.split("[", 1)[0].split(":", 1)[0]
                    report.rejected.append(
                        RejectedRow(report.lines[cid], cid, field, f"{body.code}: {body.reason}")
                    )
                    report.accepted -= 1
        finally:
            pipeline.close()
    else:
        summary["processed_by"] = "the running customers processor" if busy else "nobody (--no-process)"
    if rejects is not None:
        write_rejects(rejects, report)
    return report, {**report.summary(), **summary}
