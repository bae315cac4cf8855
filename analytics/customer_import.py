"""Customer import: a CSV of customer profiles from another system, as `DefineCustomer` commands.

`ccx customers import FILE.csv` reads a CSV with a header. Columns (case-insensitive):
`customer_id` (required), `name` or `names`, `phones`, `emails` (several values separated
by ";" or "|"), `vip` (true/false, yes/no, 1/0, empty = false), `language`, `segment`;
every other column with a value becomes a profile attribute of that name. National numbers
need the file's `region` ("DE").

Every row is checked exactly as the customers decider checks a command
(`processors.customers.check_define`), so a row that would be dead-lettered is rejected here
instead: `ImportReport.rejected` lists each with its line, customer id, field and reason, as
`ccx import calls` does. A customer id or a phone number or email seen on an earlier row of
the file is rejected too (the decider would refuse the second owner). Command ids derive
from the file's content and the row's customer id, so the same file appended twice is the
same commands, and the decider turns an unchanged profile into no event at all.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from processors.customers import check_define
from processors.decider import Invalid
from schemas.customer_commands import CustomerAttribute, DefineCustomer
from schemas.envelope import Envelope, Message, derive_event_id

__all__ = ["COLUMNS", "CsvError", "ImportReport", "RejectedRow", "read_customers"]

COLUMNS = ("customer_id", "name", "names", "phones", "emails", "vip", "language", "segment")
_SPLIT = re.compile(r"[;|]")
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"", "false", "no", "n", "0"}


class CsvError(ValueError):
    """The file as a whole cannot be read (no header, no customer_id column)."""


@dataclass(frozen=True)
class RejectedRow:
    line: int
    customer_id: str
    field: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    accepted: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    """Customer id -> the line it was accepted from."""

    def by_field(self) -> Counter[str]:
        return Counter(r.field for r in self.rejected)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": len(self.rejected),
            "rejected_by_field": dict(sorted(self.by_field().items())),
        }


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _values(raw: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in _SPLIT.split(raw) if v.strip())


def _field_of(reason: str) -> str:
    """ "phones[1]: '12' is not ..." -> "phones"; "names must hold ..." -> "names"."""
    head = re.split(r"[:\s\[.]", reason, maxsplit=1)[0]
    return head or "row"


def _command(row: dict[str, str], region: str) -> DefineCustomer:
    vip = row.get("vip", "").lower()
    if vip not in _TRUE | _FALSE:
        raise _Bad("vip", f"vip: {row['vip']!r} is not true/false, yes/no or 1/0")
    names = _values(row.get("names", "")) or tuple(n for n in (row.get("name", "").strip(),) if n)
    extra = tuple(CustomerAttribute(k, v) for k, v in row.items() if k not in COLUMNS and v)
    cmd = DefineCustomer(
        row.get("customer_id", ""),
        names,
        _values(row.get("phones", "")),
        _values(row.get("emails", "")),
        vip in _TRUE,
        row.get("language", ""),
        row.get("segment", ""),
        extra,
        region,
    )
    try:
        return check_define(cmd)
    except Invalid as e:
        raise _Bad(_field_of(e.reason), e.reason) from None


def read_customers(
    path: Path, *, tenant: str, at_ms: int, region: str = "", actor: str = ""
) -> tuple[ImportReport, list[Message[DefineCustomer]]]:
    """Check every row; the `DefineCustomer` commands of the good ones (normalised), in file order."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    actor = actor or f"import:{path.name}"
    report = ImportReport()
    out: list[Message[DefineCustomer]] = []
    ids: dict[str, int] = {}
    owners: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.DictReader(f)
        header = [(n or "").strip().lower() for n in reader.fieldnames or []]
        if "customer_id" not in header:
            raise CsvError(f"{path.name}: the header needs a customer_id column (it has {header})")
        reader.fieldnames = header
        for n, raw in enumerate(reader):
            line = n + 2
            report.rows += 1
            row = {k: (v or "").strip() for k, v in raw.items() if k}
            cid = row.get("customer_id", "")
            try:
                if cid in ids:
                    raise _Bad("customer_id", f"customer_id: {cid!r} is already on line {ids[cid]}")
                cmd = _command(row, region)
                for fname, values in (("phones", cmd.phones), ("emails", cmd.emails)):
                    for i, v in enumerate(values):
                        if v in owners:
                            raise _Bad(fname, f"{fname}[{i}]: {v} is already on line {owners[v]}")
            except _Bad as e:
                report.rejected.append(RejectedRow(line, cid, e.field, e.reason))
                continue
            ids[cid] = report.lines[cid] = line
            owners.update(dict.fromkeys((*cmd.phones, *cmd.emails), line))
            report.accepted += 1
            env = Envelope(
                derive_event_id(f"customers-import:{digest}:{cid}", 0), tenant, at_ms, cid, None, actor
            )
            out.append(Message(env, cmd))
    return report, out
