"""Historical import: a call log from another system, as ccx contact events.

`ccx import calls FILE --mapping MAPPING.yaml` reads a CSV/TSV call log whose columns a
mapping names (`analytics/mappings/anonymous_bank.yaml` is the first real one) and turns
every valid row into the contact events ccx itself would have written: `ContactArrived`,
then `ContactQueued`, then `ContactConnected` / `ContactEnded` / wrap-up for a served
call, or `ContactEnded` "abandoned" for a caller who hung up in the queue, or
`ContactEnded` "ended_in_ivr" for a call that never queued. From there the normal
pipeline builds CDRs, live statistics and the warehouse, so every report and the
staffing forecast work on real history.

Times: a row's arrival is its date and time of day in the mapping's time zone; later
moments are arrival + the durations columns (IVR time, wait, service) when the mapping
names them, which is robust to clocks that wrap past midnight without a date change.

Rows that cannot be imported are not dropped silently: `ImportReport.rejected` lists each
with its line number and the reason (phantom call, negative duration, unknown outcome, bad
time, duplicate id, ...), counted per reason. Event ids derive from the file's content and
the call id, so importing the same file twice is refused instead of doubling history.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from schemas.config import QueueDefined
from schemas.contact import (
    ContactArrived,
    ContactConnected,
    ContactEnded,
    ContactQueued,
    WrapUpCompleted,
    WrapUpStarted,
)
from schemas.envelope import Envelope, Message, derive_event_id, iso_ms

__all__ = ["ImportReport", "Mapping", "MappingError", "Rejected", "load_mapping", "read_calls"]

OUTCOMES = ("answered", "abandoned", "skip")


class MappingError(ValueError):
    """The mapping file is wrong; the message names the key."""


@dataclass(frozen=True)
class Mapping:
    source: str
    tenant: str
    delimiter: str
    timezone: str
    contact_prefix: str
    columns: dict[str, str]
    id_columns: tuple[str, ...]
    durations: dict[str, str]
    date_format: str
    time_format: str
    unknown_ani: tuple[str, ...]
    unknown_agent: tuple[str, ...]
    outcomes: dict[str, str]
    priorities: dict[str, int]
    queues: dict[str, str]
    default_queue: str


@dataclass(frozen=True)
class Rejected:
    line: int
    call_id: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    events: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    first_ms: int = 0
    last_ms: int = 0

    def reasons(self) -> Counter[str]:
        return Counter(r.reason.split(":")[0] for r in self.rejected)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "rejected": len(self.rejected),
            "rejected_by_reason": dict(sorted(self.reasons().items())),
            "outcomes": dict(sorted(self.outcomes.items())),
            "notes": dict(sorted(self.notes.items())),
            "events": self.events,
            "from": _iso(self.first_ms),
            "to": _iso(self.last_ms),
        }


def _iso(ms: int) -> str:
    return iso_ms(ms) if ms else ""


_REQUIRED_COLUMNS = ("id", "date", "arrival", "outcome")
_OPTIONAL_COLUMNS = ("ani", "priority", "queue_entry", "service_start", "service_end", "agent", "queue")


def load_mapping(path: Path) -> Mapping:
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise MappingError(f"{path.name}: not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise MappingError(f"{path.name}: must be a mapping")
    cols = dict(doc.get("columns") or {})
    ids = cols.get("id")
    id_columns = tuple(str(i) for i in ids) if isinstance(ids, list) else (str(ids),) if ids else ()
    if ids is not None:
        cols["id"] = "+".join(id_columns)
    missing = [c for c in _REQUIRED_COLUMNS if c not in cols]
    if missing:
        raise MappingError(f"{path.name}: columns must name {', '.join(missing)}")
    unknown = set(cols) - set(_REQUIRED_COLUMNS) - set(_OPTIONAL_COLUMNS)
    if unknown:
        raise MappingError(f"{path.name}: unknown columns keys {sorted(unknown)}")
    durations = doc.get("durations") or {}
    if set(durations) - {"ivr", "wait", "service"}:
        raise MappingError(f"{path.name}: durations keys are ivr, wait, service")
    outcomes = {str(k): str(v) for k, v in (doc.get("outcomes") or {}).items()}
    bad = {k: v for k, v in outcomes.items() if v not in OUTCOMES}
    if not outcomes or bad:
        raise MappingError(
            f"{path.name}: outcomes must map source values to {', '.join(OUTCOMES)}; bad: {bad}"
        )
    tz = str(doc.get("timezone", "UTC"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{path.name}: unknown timezone {tz!r}") from None
    if "service" not in durations and not {"service_start", "service_end"} <= set(cols):
        raise MappingError(f"{path.name}: give durations.service or columns service_start and service_end")
    return Mapping(
        source=str(doc.get("source", path.stem)),
        tenant=str(doc.get("tenant", "imported")),
        delimiter=str(doc.get("delimiter", ",")),
        timezone=tz,
        contact_prefix=str(doc.get("contact_prefix", "")),
        columns={str(k): str(v) for k, v in cols.items()},
        id_columns=id_columns,
        durations={str(k): str(v) for k, v in durations.items()},
        date_format=str(doc.get("date_format", "%Y-%m-%d")),
        time_format=str(doc.get("time_format", "%H:%M:%S")),
        unknown_ani=tuple(str(v) for v in doc.get("unknown_ani", ())),
        unknown_agent=tuple(str(v) for v in doc.get("unknown_agent", ())),
        outcomes=outcomes,
        priorities={str(k): int(v) for k, v in (doc.get("priorities") or {}).items()},
        queues={str(k): str(v) for k, v in (doc.get("queues") or {}).items()},
        default_queue=str(doc.get("queue", "imported")),
    )


class _Bad(Exception):
    pass


def _call_id(m: Mapping, row: dict[str, str]) -> str:
    parts = [(row.get(col) or "").strip() for col in m.id_columns]
    return "-".join(parts) if all(parts) else ""


def _seconds(row: dict[str, str], column: str, what: str) -> int:
    raw = (row.get(column) or "").strip()
    try:
        value = int(float(raw))
    except ValueError:
        raise _Bad(f"bad {what}: {column}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise _Bad(f"negative duration: {column}={value}")
    return value


def _clock_s(raw: str, fmt: str, column: str) -> int:
    try:
        t = datetime.strptime(raw.strip(), fmt)
    except ValueError:
        raise _Bad(f"bad time: {column}={raw!r} is not like {fmt}") from None
    return t.hour * 3600 + t.minute * 60 + t.second


def _row_events(
    m: Mapping, row: dict[str, str], zone: ZoneInfo, report: ImportReport
) -> tuple[str, list[tuple[int, object]]]:
    c, d = m.columns, m.durations
    call_id = _call_id(m, row)
    if not call_id:
        raise _Bad(f"missing id: {', '.join(m.id_columns)} empty")
    raw_outcome = (row.get(c["outcome"]) or "").strip()
    outcome = m.outcomes.get(raw_outcome)
    if outcome is None:
        raise _Bad(f"unknown outcome: {raw_outcome!r} is not in the mapping's outcomes")
    if outcome == "skip":
        raise _Bad(f"skipped outcome: {raw_outcome} rows are mapped to skip (phantom calls)")
    raw_date = (row.get(c["date"]) or "").strip()
    try:
        day = datetime.strptime(raw_date, m.date_format)
    except ValueError:
        raise _Bad(f"bad date: {c['date']}={raw_date!r} is not like {m.date_format}") from None
    arrival_s = _clock_s(row.get(c["arrival"]) or "", m.time_format, c["arrival"])
    local = day.replace(
        hour=arrival_s // 3600, minute=arrival_s % 3600 // 60, second=arrival_s % 60, tzinfo=zone
    )
    t0 = int(local.timestamp() * 1000)
    ivr = _seconds(row, d["ivr"], "IVR time") if "ivr" in d else 0
    wait = _seconds(row, d["wait"], "wait") if "wait" in d else 0
    if "service" in d:
        service = _seconds(row, d["service"], "service time")
    else:
        start = _clock_s(row.get(c["service_start"]) or "", m.time_format, c["service_start"])
        end = _clock_s(row.get(c["service_end"]) or "", m.time_format, c["service_end"])
        service = (end - start) % 86_400  # wraps past midnight
    cid = f"{m.contact_prefix}{call_id}"
    ani = (row.get(c["ani"]) or "").strip() if "ani" in c else ""
    ani = "" if ani in m.unknown_ani else ani
    raw_priority = (row.get(c["priority"]) or "").strip() if "priority" in c else ""
    priority = m.priorities.get(raw_priority, 0)
    raw_queue = (row.get(c["queue"]) or "").strip() if "queue" in c else ""
    queue = m.queues.get(raw_queue, raw_queue) or m.default_queue
    agent = (row.get(c["agent"]) or "").strip() if "agent" in c else ""
    agent = "" if agent in m.unknown_agent else agent
    t1 = t0 + ivr * 1000  # left the IVR, entered the queue
    events: list[tuple[int, object]] = [(t0, ContactArrived(cid, "voice", ani, ""))]
    if outcome == "answered":
        if not agent:
            report.notes["answered without an agent named"] += 1
        t2 = t1 + wait * 1000
        t3 = t2 + service * 1000
        events += [
            (t1, ContactQueued(cid, queue, priority)),
            (t2, ContactConnected(cid, queue, agent, wait * 1000)),
            (t3, ContactEnded(cid, queue, "completed", "caller", agent, wait * 1000)),
            (t3, WrapUpStarted(cid, agent)),
            (t3, WrapUpCompleted(cid, agent, "imported", "")),
        ]
    elif wait > 0:
        events += [
            (t1, ContactQueued(cid, queue, priority)),
            (t1 + wait * 1000, ContactEnded(cid, queue, "abandoned", "caller", "", wait * 1000)),
        ]
    else:
        events.append((t1, ContactEnded(cid, queue, "ended_in_ivr", "caller", "", 0)))
    report.outcomes[outcome if (outcome == "answered" or wait > 0) else "ended_in_ivr"] += 1
    return cid, events


def read_calls(path: Path, m: Mapping, *, actor: str = "") -> tuple[ImportReport, list[Message[Any]]]:
    """Validate every row and build the events (sorted by time) of the valid ones."""
    zone = ZoneInfo(m.timezone)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    report = ImportReport()
    timed: list[tuple[int, int, int, Message[Any]]] = []
    seen: set[str] = set()
    queues: dict[str, int] = {}
    actor = actor or f"import:{path.name}"
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f, delimiter=m.delimiter)
        reader.fieldnames = [n.strip() for n in reader.fieldnames or []]
        wanted = {*m.id_columns, *(v for k, v in m.columns.items() if k != "id"), *m.durations.values()}
        missing = [col for col in wanted if col not in reader.fieldnames]
        if missing:
            raise MappingError(
                f"{path.name}: no column {', '.join(sorted(missing))} (the header has {reader.fieldnames})"
            )
        for n, raw in enumerate(_rows(reader)):
            line = n + 2
            report.rows += 1
            row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            call_id = _call_id(m, row)
            try:
                if call_id in seen:
                    raise _Bad(f"duplicate id: {call_id} already imported from this file")
                cid, events = _row_events(m, row, zone, report)
            except _Bad as e:
                report.rejected.append(Rejected(line, call_id, str(e)))
                continue
            seen.add(call_id)
            report.imported += 1
            cause = f"import:{digest}:{cid}"
            for i, (at, body) in enumerate(events):
                env = Envelope(derive_event_id(cause, i), m.tenant, at, cid, None, actor)
                timed.append((at, report.imported, i, Message(env, body)))
                if isinstance(body, ContactQueued):
                    queues[body.queue_id] = min(queues.get(body.queue_id, at), at)
    timed.sort(key=lambda x: x[:3])
    config = [
        Message(
            Envelope(
                derive_event_id(f"import:{digest}:queue:{q}", 0), m.tenant, at, f"queue:{q}", None, actor
            ),
            QueueDefined(q, q, 20, 5, 15, 0, "longest_idle", 1),
        )
        for q, at in sorted(queues.items())
    ]
    messages = config + [msg for *_k, msg in timed]
    report.events = len(messages)
    if timed:
        report.first_ms, report.last_ms = timed[0][0], timed[-1][0]
    return report, messages


def _rows(reader: csv.DictReader[str]) -> Iterator[dict[str, str]]:
    yield from reader
