"""`ccx customers import` and `ccx customers erase`: the customer edges of the CLI.

`import_customers` appends a customer CSV as `DefineCustomer` commands.

Reads and checks the file with `analytics.customer_import`, writes the rejected rows (line,
customer id, field, reason) to a CSV when asked, appends the good rows' commands to
`cc.commands`, and, when no other process runs the customers processor
(`EventLog.group_in_use`), runs it here until idle and adds the commands it refused (a
number another customer already owns) to the rejected rows, so the report is complete.

`erase_customer` (a privacy request, docs/adr/0020) finds the customer's profile in
`cc.customer-events`, deletes the keys of the customer, its merged duplicates and every
number and email it ever held (but one another live customer owns now), then appends
`EraseCustomer` naming the deleted key ids, and runs the customers processor when nobody
else does. Keys go first: a crash after that leaves the data unreadable already, and
running the command again appends the command.
"""

from __future__ import annotations

import csv
import time
import uuid
from pathlib import Path
from typing import Any

from analytics.customer_import import ImportReport, RejectedRow, read_customers
from ccx.bootstrap import open_log, open_pipeline
from ccx.settings import Settings
from processors.customers import TenantCustomers, apply, customers_processor, erase_subjects
from schemas.customer_commands import EraseCustomer
from schemas.customers import CustomerDefined, CustomersMerged, CustomerUpdated
from schemas.envelope import Envelope, Message
from schemas.system import CommandRejected
from streams import topics
from streams.tail import read_all

__all__ = ["EraseError", "erase_customer", "import_customers", "write_rejects"]

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


class EraseError(ValueError):
    """An erasure that cannot be done as asked (unknown or merged customer)."""


def _history(log: Any, serde: Any, tenant: str) -> tuple[TenantCustomers, dict[str, set[str]]]:
    """The tenant's directory now, and every number/email subject each customer ever held."""
    t = TenantCustomers()
    held: dict[str, set[str]] = {}
    for _r, m in read_all(log, serde, [topics.CUSTOMER_EVENTS.name]):
        if m.envelope.tenant != tenant:
            continue
        body = m.body
        if isinstance(body, CustomerDefined | CustomerUpdated | CustomersMerged):
            owner = body.survivor_id if isinstance(body, CustomersMerged) else body.customer_id
            held.setdefault(owner, set()).update(
                (*(f"phone:{tenant}:{p}" for p in body.phones), *(f"email:{tenant}:{e}" for e in body.emails))
            )
        t = apply(t, body)
    return t, held


def erase_customer(
    settings: Settings,
    customer_id: str,
    reason: str = "",
    *,
    process: bool = True,
    now_ms: int | None = None,
    actor: str = "privacy",
) -> dict[str, Any]:
    """Delete the keys of `customer_id`'s personal data and append `EraseCustomer` (asked by
    `actor`); a summary."""
    tenant = settings.tenant
    at = int(time.time() * 1000) if now_ms is None else now_ms
    log, serde = open_log(settings)
    try:
        t, held = _history(log, serde, tenant)
        c = t.customers.get(customer_id)
        if c is None:
            raise EraseError(f"customer {customer_id!r} is unknown in tenant {tenant!r}")
        if c.merged_into:
            raise EraseError(f"customer {customer_id!r} was merged into {c.merged_into!r}; erase that one")
        mine = {s for cid in (customer_id, *c.absorbed) for s in held.get(cid, ())}
        owned = {f"phone:{tenant}:{p}": o for p, o in t.phones.items()} | {
            f"email:{tenant}:{e}": o for e, o in t.emails.items()
        }
        others = {s for s in mine if owned.get(s, customer_id) != customer_id}
        subjects = {*erase_subjects(t, tenant, customer_id), *(mine - others)}
        assert serde.shredder is not None  # open_log always attaches the vault
        key_ids = serde.shredder.vault.erase(subjects)
        env = Envelope(str(uuid.uuid4()), tenant, at, customer_id, None, actor)
        log.append([serde.out(Message(env, EraseCustomer(customer_id, reason, key_ids)))])
        busy = log.group_in_use("customers")
    finally:
        log.close()
    summary: dict[str, Any] = {
        "tenant": tenant,
        "customer_id": customer_id,
        "keys_erased": len(key_ids),
        "kept_numbers_of_others": len(others),
    }
    if process and not busy:
        pipeline = open_pipeline(
            settings,
            with_warehouse=False,
            runners=("customers",),
            processors={"customers": customers_processor()},
        )
        try:
            summary["records_processed"] = pipeline.run_until_idle()
        finally:
            pipeline.close()
    return summary
