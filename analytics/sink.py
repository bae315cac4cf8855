"""The warehouse sink: every message of the public and system topics into ClickHouse.

The runner (`streams.runner`) hands it decoded batches. Each batch becomes at most one
insert per table: every message goes to `raw_events`, CDRs also to `contacts`, queue
legs to `contact_legs`, queue definitions also to `queues`, agent state changes also to
`agent_states`, the offer events of an agent (offered, accepted, declined, timed out,
withdrawn) also to `offers`, IVR events to `ivr_events`, survey answers to `surveys` and
ticket events (but SLA definitions and notifications) to `ticket_events`. A customer
notification's address is not stored: its `raw_events` payload has `to` emptied.
The tables are ReplacingMergeTrees keyed by log position, natural key or event id, so a
batch replayed after a crash (written, but offsets not committed) changes nothing that a
`FINAL` query sees.

Agent state changes also close intervals (`analytics.agent_intervals`): each change ends
the state its predecessor opened, a row of `agent_state_intervals`.

`contact_legs`, `offers` and `agent_state_intervals` feed materialized views (the
15-minute queue and agent tallies) that add each inserted row: a replayed row would count
twice there. So those rows are written once: the sink first asks which of the batch's
rows (by key) are stored already and inserts only the others (`skipped` counts them per
table). The views' tallies are in ADR 12 and docs/warehouse.md.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.agent_intervals import INTERVAL_COLUMNS, Change, closed_intervals
from analytics.erasure import erase_customers
from analytics.warehouse import Warehouse
from schemas.agent import AgentStateChanged
from schemas.cdr import ContactRecord
from schemas.config import QueueDefined
from schemas.contact import ContactOffered, OfferAccepted, OfferDeclined, OfferTimedOut, OfferWithdrawn
from schemas.envelope import Envelope, Message
from schemas.ivr import (
    IvrEnded,
    IvrLookupAnswered,
    IvrLookupRequested,
    IvrNodeEntered,
    IvrNodeLeft,
    IvrStarted,
    SurveyAnswered,
)
from schemas.legs import QueueLeg
from schemas.tickets import (
    CustomerNotificationRequested,
    TicketAssigned,
    TicketAttachmentAdded,
    TicketCommented,
    TicketCreated,
    TicketEscalated,
    TicketSlaBreached,
    TicketStatusChanged,
)
from streams.ports import Record

__all__ = [
    "AGENT_STATE_COLUMNS",
    "CONTACT_COLUMNS",
    "LEG_COLUMNS",
    "OFFER_COLUMNS",
    "OFFER_KINDS",
    "QUEUE_COLUMNS",
    "RAW_COLUMNS",
    "WarehouseSink",
    "payload_json",
    "utc",
]

RAW_COLUMNS = (
    "topic", "partition", "offset", "key", "event_id", "type", "tenant", "occurred_at",
    "correlation_id", "causation_id", "actor", "payload",
)  # fmt: skip
_CDR_FIELDS = tuple(f.name for f in dataclasses.fields(ContactRecord))
_CDR_TIMES = frozenset({"arrived_at", "queued_at", "answered_at", "ended_at", "finished_at"})
CONTACT_COLUMNS = ("tenant", *_CDR_FIELDS, "event_id")
_LEG_FIELDS = tuple(f.name for f in dataclasses.fields(QueueLeg))
LEG_COLUMNS = ("tenant", *_LEG_FIELDS, "event_id")
IVR_COLUMNS = (
    "tenant", "contact_id", "type", "flow_id", "flow_version", "node_id", "node_type", "visit", "exit",
    "next_node", "digits", "result", "at", "event_id", "partition", "offset",
)  # fmt: skip
_IVR_TYPES = (IvrStarted, IvrNodeEntered, IvrNodeLeft, IvrLookupRequested, IvrLookupAnswered, IvrEnded)
_TICKET_TYPES = (
    TicketCreated, TicketAssigned, TicketStatusChanged, TicketCommented, TicketAttachmentAdded,
    TicketEscalated, TicketSlaBreached,
)  # fmt: skip
"""Ticket events with a `ticket_events` row (SLA definitions and notifications: `raw_events` only)."""
SURVEY_COLUMNS = ("tenant", "contact_id", "flow_id", "question", "score", "at", "event_id", "ticket_id")
TICKET_COLUMNS = (
    "tenant", "ticket_id", "type", "at", "category", "priority", "department", "customer_id", "contact_id",
    "respond_due_at", "resolve_due_at", "assignee", "from_status", "to_status", "which", "due_at", "level",
    "automatic", "event_id", "partition", "offset",
)  # fmt: skip
QUEUE_COLUMNS = (
    "tenant", "queue_id", "name", "sl_threshold_s", "short_abandon_s", "ring_timeout_s",
    "wrap_up_s", "strategy", "rule_version", "defined_at",
)  # fmt: skip

AGENT_STATE_COLUMNS = (
    "tenant", "agent_id", "at", "state", "previous", "reason", "contact_id", "presence",
    "event_id", "partition", "offset",
)  # fmt: skip
OFFER_COLUMNS = ("tenant", "agent_id", "at", "kind", "contact_id", "event_id")
OFFER_KINDS: dict[type, str] = {
    ContactOffered: "offered",
    OfferAccepted: "accepted",
    OfferDeclined: "declined",
    OfferTimedOut: "timed_out",
    OfferWithdrawn: "withdrawn",
}
"""Offer event type -> `offers.kind`."""
_PRESENCES = frozenset({"available", "not_ready", "logged_out"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc(ms: int) -> datetime:
    """Milliseconds since the epoch as an aware UTC datetime (exact, no float rounding)."""
    return _EPOCH + timedelta(milliseconds=ms)


def _json_default(value: object) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def payload_json(body: object) -> str:
    """The body as JSON: dataclass fields in order, tuples as lists, bytes as base64."""
    data = dataclasses.asdict(body) if dataclasses.is_dataclass(body) else body  # type: ignore[arg-type]
    return json.dumps(data, default=_json_default, ensure_ascii=False, separators=(",", ":"))


class WarehouseSink:
    """Writes batches of decoded messages to the warehouse; idempotent per batch."""

    name = "sink"
    inputs = (
        "cc.config-events",
        "cc.contact-events",
        "cc.agent-events",
        "cc.cdr",
        "cc.contact-legs",
        "cc.ivr-events",
        "cc.ticket-events",
        "cc.customer-events",
        "cc.command-results",
        "cc.dead-letter",
    )

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.rows_written: Counter[str] = Counter()
        """Rows inserted per table since start (replays count again)."""
        self.batches_written = 0
        self.skipped: Counter[str] = Counter()
        """Rows of replayed batches found already stored and not written again, per table
        (the tables that feed materialized views)."""
        self.last_occurred_at = 0
        """`occurred_at` (ms) of the newest message written, for lag: now - this."""

    def write(self, batch: Sequence[tuple[Record, Message[Any]]]) -> None:
        raw: list[tuple[Any, ...]] = []
        contacts: list[tuple[Any, ...]] = []
        queues: list[tuple[Any, ...]] = []
        states: list[tuple[Any, ...]] = []
        changes: list[Change] = []
        offers: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        legs: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        ivr: list[tuple[Any, ...]] = []
        surveys: list[tuple[Any, ...]] = []
        tickets: list[tuple[Any, ...]] = []
        for record, message in batch:
            raw.append(_raw_row(record, message))
            body = message.body
            if isinstance(body, ContactRecord):
                contacts.append(_contact_row(message.envelope, body))
            elif isinstance(body, QueueDefined):
                queues.append(_queue_row(message.envelope, body))
            elif isinstance(body, AgentStateChanged):
                row = _state_row(record, message.envelope, body)
                states.append(row)
                tenant, agent_id, _at, state, _previous, reason, contact_id, presence = row[:8]
                env = message.envelope
                changes.append(
                    Change(tenant, agent_id, env.occurred_at, state, reason, presence, contact_id,
                           env.event_id, record.partition, record.offset)
                )  # fmt: skip
            elif type(body) in OFFER_KINDS:
                offers[(message.envelope.tenant, body.agent_id, message.envelope.event_id)] = _offer_row(
                    message.envelope, body
                )
            elif isinstance(body, _IVR_TYPES):
                ivr.append(_ivr_row(record, message.envelope, body))
            elif isinstance(body, SurveyAnswered):
                surveys.append(_survey_row(message.envelope, body))
            elif isinstance(body, QueueLeg):
                legs[(message.envelope.tenant, body.contact_id, body.leg)] = _leg_row(message.envelope, body)
            elif isinstance(body, _TICKET_TYPES):
                tickets.append(_ticket_row(record, message.envelope, body))
        intervals = {
            key: (*row[:6], utc(row[6]), utc(row[7]), *row[8:])
            for key, row in closed_intervals(self.warehouse, changes).items()
        }
        new_legs = self._unstored("contact_legs", legs, ("tenant", "contact_id", "leg"))
        for table, rows, columns in (
            ("contact_legs", new_legs, LEG_COLUMNS),
            ("queues", queues, QUEUE_COLUMNS),
            ("contacts", contacts, CONTACT_COLUMNS),
            ("agent_states", states, AGENT_STATE_COLUMNS),
            ("agent_state_intervals", self._unstored("agent_state_intervals", intervals), INTERVAL_COLUMNS),
            ("offers", self._unstored("offers", offers), OFFER_COLUMNS),
            ("ivr_events", ivr, IVR_COLUMNS),
            ("surveys", surveys, SURVEY_COLUMNS),
            ("ticket_events", tickets, TICKET_COLUMNS),
            ("raw_events", raw, RAW_COLUMNS),
        ):
            if rows:
                self.warehouse.insert(table, rows, columns)
                self.rows_written[table] += len(rows)
        erase_customers(self.warehouse, batch)  # CustomerErased: anonymise in place (ADR 20)
        self.batches_written += 1
        if batch:
            self.last_occurred_at = max(self.last_occurred_at, *(m.envelope.occurred_at for _, m in batch))

    def _unstored(
        self,
        table: str,
        rows: dict[tuple[Any, ...], tuple[Any, ...]],
        key: tuple[str, ...] = ("tenant", "agent_id", "event_id"),
    ) -> list[tuple[Any, ...]]:
        """`rows` (by their `key` columns' values) that `table` does not hold yet. The string
        key columns filter the lookup (a primary-key prefix in every such table)."""
        if not rows:
            return []
        texts = [i for i, name in enumerate(key) if all(isinstance(k[i], str) for k in rows)]
        where = " AND ".join(f"{key[i]} IN {{k{i}:Array(String)}}" for i in texts)
        params = {f"k{i}": sorted({k[i] for k in rows}) for i in texts}
        wanted = dict(rows)
        for found in self.warehouse.query_rows(f"SELECT {', '.join(key)} FROM {table} WHERE {where}", params):
            if wanted.pop(tuple(found), None) is not None:
                self.skipped[table] += 1
        return list(wanted.values())


def _raw_row(record: Record, message: Message[Any]) -> tuple[Any, ...]:
    env = message.envelope
    key = record.key.decode("utf-8", "backslashreplace")
    position = (record.topic, record.partition, record.offset, key)
    meta = (env.event_id, message.type, env.tenant, utc(env.occurred_at), env.correlation_id)
    body = message.body
    if isinstance(body, CustomerNotificationRequested):
        body = dataclasses.replace(body, to="")  # the address stays in the log only
    return (*position, *meta, env.causation_id, env.actor, payload_json(body))


def _contact_row(env: Envelope, cdr: ContactRecord) -> tuple[Any, ...]:
    values = []
    for name in _CDR_FIELDS:
        value = getattr(cdr, name)
        values.append((utc(value) if value else None) if name in _CDR_TIMES else value)
    return (env.tenant, *values, env.event_id)


def _leg_row(env: Envelope, leg: QueueLeg) -> tuple[Any, ...]:
    values = [utc(getattr(leg, n)) if n in ("queued_at", "left_at") else getattr(leg, n) for n in _LEG_FIELDS]
    return (env.tenant, *values, env.event_id)


def _ivr_row(record: Record, env: Envelope, e: Any) -> tuple[Any, ...]:
    def text(name: str) -> str:
        return str(getattr(e, name, ""))

    typed = (
        text("flow_id"), int(getattr(e, "flow_version", 0)), text("node_id"), text("node_type"),
        int(getattr(e, "visit", 0)), text("exit"), text("next_node"), text("digits"), text("result"),
    )  # fmt: skip
    position = (utc(env.occurred_at), env.event_id, record.partition, record.offset)
    return (env.tenant, e.contact_id, type(e).__name__, *typed, *position)


def _survey_row(env: Envelope, s: SurveyAnswered) -> tuple[Any, ...]:
    answer = (s.contact_id, s.flow_id, s.question, s.score, utc(env.occurred_at), env.event_id, s.ticket_id)
    return (env.tenant, *answer)


def _ticket_row(record: Record, env: Envelope, e: Any) -> tuple[Any, ...]:
    def text(name: str) -> str:
        return str(getattr(e, name, ""))

    def when(name: str) -> datetime | None:
        ms = int(getattr(e, name, 0))
        return utc(ms) if ms else None

    created = (
        text("category"),
        text("priority"),
        text("department"),
        text("customer_id"),
        text("contact_id"),
    )
    due = (when("respond_due_at"), when("resolve_due_at"))
    change = (text("assignee"), text("from_status"), text("to_status"), text("which"), when("due_at"))
    escalation = (int(getattr(e, "level", 0)), int(bool(getattr(e, "automatic", False))))
    position = (env.event_id, record.partition, record.offset)
    return (env.tenant, e.ticket_id, type(e).__name__, utc(env.occurred_at), *created, *due, *change,
            *escalation, *position)  # fmt: skip


def _queue_row(env: Envelope, q: QueueDefined) -> tuple[Any, ...]:
    timing = (q.sl_threshold_s, q.short_abandon_s, q.ring_timeout_s, q.wrap_up_s)
    return (env.tenant, q.queue_id, q.name, *timing, q.strategy, q.rule_version, utc(env.occurred_at))


def _state_row(record: Record, env: Envelope, a: AgentStateChanged) -> tuple[Any, ...]:
    # Events written before presence existed carry "": their presence is the state when
    # that is a presence (schemas.agent), so the column always says what the agent chose.
    presence = a.presence or (a.state if a.state in _PRESENCES else "")
    change = (a.state, a.previous, a.reason, a.contact_id, presence)
    return (
        env.tenant,
        a.agent_id,
        utc(env.occurred_at),
        *change,
        env.event_id,
        record.partition,
        record.offset,
    )


def _offer_row(env: Envelope, body: Any) -> tuple[Any, ...]:
    kind = OFFER_KINDS[type(body)]
    return (env.tenant, body.agent_id, utc(env.occurred_at), kind, body.contact_id, env.event_id)
