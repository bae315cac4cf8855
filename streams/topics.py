"""The topic registry: every topic's name, key, message types, partitions, retention and
whether it is a public contract for downstream consumers (documented in docs/topics.md).

Which topic a message goes to is decided here, by its type (`topic_for`), so deciders
return bodies and never name topics.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.catalog import CATALOG

__all__ = [
    "ALL",
    "Topic",
    "topic_for",
    "by_name",
    "COMMANDS",
    "CONTACT_EVENTS",
    "AGENT_EVENTS",
    "CONFIG_EVENTS",
    "CDR",
    "CONTACT_LEGS",
    "IVR_EVENTS",
    "TELEPHONY",
    "RECORDING_EVENTS",
    "COMMAND_RESULTS",
    "DEAD_LETTER",
    "SWITCH_ACTIONS",
    "KB_EVENTS",
    "TICKET_EVENTS",
    "CUSTOMER_EVENTS",
]


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    key: str
    types: tuple[str, ...]
    partitions: int = 6
    public: bool = False
    retention_ms: int = -1
    compacted: bool = False
    doc: str = ""
    ordering: str = ""
    """What order a consumer can rely on (docs/topics.md)."""

    @property
    def retention(self) -> str:
        """ "compacted", "forever" or the retention in days, as docs/topics.md shows it."""
        if self.compacted:
            return "compacted"
        return "forever" if self.retention_ms < 0 else f"{self.retention_ms // 86_400_000} d"


def _names(namespace: str) -> tuple[str, ...]:
    return tuple(s.name for s in CATALOG if s.namespace == namespace)


COMMANDS = Topic(
    "cc.commands",
    "tenant",
    _names("ccx.command"),
    doc="Commands and switch facts for the ACD; one partition owns a tenant's routing.",
    ordering="Per tenant, in append order: the order in which the ACD decides them.",
)
CONTACT_EVENTS = Topic(
    "cc.contact-events",
    "tenant",
    _names("ccx.contact"),
    public=True,
    doc=(
        "Contact lifecycle decided by the ACD, in decision order per tenant (for a switch-routed "
        "tenant, recorded from app_queue by the queue recorder instead: one writer per tenant)."
    ),
    ordering="Per tenant, in decision order; a contact's events are never reordered.",
)
AGENT_EVENTS = Topic(
    "cc.agent-events",
    "tenant",
    _names("ccx.agent"),
    public=True,
    doc=(
        "Agent login and state transitions, in decision order per tenant (written by the ACD, or "
        "by the queue recorder for a switch-routed tenant)."
    ),
    ordering=(
        "Per tenant, in decision order. Not ordered against `cc.contact-events`: a reader of "
        "both joins them by `causation_id` (the command both came from) and `occurred_at`."
    ),
)
CONFIG_EVENTS = Topic(
    "cc.config-events",
    "tenant",
    _names("ccx.config"),
    public=True,
    doc="Queue and agent configuration as accepted by the ACD, versioned.",
    ordering="Per tenant, in the order the ACD accepted them; the last one per id is in force.",
)
CDR = Topic(
    "cc.cdr",
    "contact_id",
    _names("ccx.cdr"),
    public=True,
    doc="One contact detail record per finished contact, for billing and ERP.",
    ordering="Per contact (exactly one record each); across contacts, none.",
)
CONTACT_LEGS = Topic(
    "cc.contact-legs",
    "contact_id",
    _names("ccx.leg"),
    public=True,
    doc=(
        "One queue leg per stint of a contact in a queue (an overflowed contact has one per "
        "queue it waited in), for per-queue reporting."
    ),
    ordering=(
        "Per contact, in leg order (`leg` 1, 2, …). A contact's legs are committed no later than "
        "its record on `cc.cdr` (co-partitioned: same key, same partition count), a leg closed by "
        "the event that finished the contact in the same transaction; the two topics are not "
        "ordered against each other. Across contacts, none."
    ),
)
IVR_EVENTS = Topic(
    "cc.ivr-events",
    "tenant",
    _names("ccx.ivr"),
    public=True,
    doc=(
        "What callers did in IVR flows: one entered and one left event per node passed (with the "
        "exit taken), lookups, survey answers and how each session ended, for node-visit, "
        "containment and CSAT reports. Digits of sensitive nodes are never written."
    ),
    ordering=(
        "Per tenant, in the order the IVR engine decided them; a contact's session is "
        "`IvrStarted`, entered/left pairs in path order, then `IvrEnded`. Not ordered against "
        "`cc.contact-events`: join by `contact_id`."
    ),
)
TELEPHONY = Topic(
    "cc.telephony",
    "tenant",
    _names("ccx.telephony"),
    doc=(
        "Facts from the switch (the AMI adapter): calls started, ringing, answered, bridged, held, "
        "transferred and hung up, DTMF, IVR prompts finished, app_queue caller and member events, "
        "recordings and conferences, each naming the AMI event it came from (docs/telephony.md); "
        "and the IVR lookup edge's `IvrLookupResult` (the answer JSON may hold customer data: it is "
        "kept as long as this topic's retention, docs/ivr.md)."
    ),
    ordering=(
        "Per tenant, in the order the switch reported them; a call's facts (correlation id = the "
        "switch's call id, Asterisk's Linkedid) are never reordered. Facts learned by "
        "resynchronising after a lost AMI connection come in the order the adapter learned them."
    ),
)
RECORDING_EVENTS = Topic(
    "cc.recording-events",
    "tenant",
    _names("ccx.recording"),
    public=True,
    doc=(
        "Call recordings: started, paused (card data) and resumed, stopped, stored at a location, "
        "retention rules, legal holds, expiry and deletion (docs/recordings.md)."
    ),
    ordering=(
        "Per tenant, in the order the recordings processor decided them; a recording's events are "
        "never reordered (started, paused/resumed, stopped, stored, expired, deleted)."
    ),
)
COMMAND_RESULTS = Topic(
    "cc.command-results",
    "tenant",
    ("CommandRejected",),
    retention_ms=7 * 24 * 3600 * 1000,
    doc="Rejections of well-formed commands (state conflicts), for the API's round trip.",
    ordering="Per tenant, in decision order.",
)
DEAD_LETTER = Topic(
    "cc.dead-letter",
    "source topic",
    ("DeadLetter",),
    partitions=1,
    doc="Input that could not be decoded or validated, kept whole with the reason.",
    ordering="One partition: in the order the processors met the bad input.",
)

SWITCH_ACTIONS = Topic(
    "cc.switch-actions",
    "tenant",
    _names("ccx.switch"),
    doc=(
        "What ccx asks the switch to do (originate an agent, bridge, redirect, play an IVR prompt, "
        "hang up, record, pause and resume a recording, spy), decided by the switchboard and the IVR "
        "processor and performed once each by the AMI executor, keyed by the action's event id "
        "(docs/telephony.md)."
    ),
    ordering=(
        "Per tenant, in the order the switchboard (or the IVR processor) decided them; a contact's "
        "actions from one processor are never reordered. Failures come back as "
        "`SwitchActionFailed` on `cc.telephony`."
    ),
)
KB_EVENTS = Topic(
    "cc.kb-events",
    "tenant",
    _names("ccx.kb"),
    public=True,
    doc=(
        "The knowledge base: article versions as written, which version is published or withdrawn, "
        'and agents\' "this helped" ratings (docs/knowledge-base.md).'
    ),
    ordering="Per tenant, in the order the kb processor decided them; an article's versions in order.",
)
TICKET_EVENTS = Topic(
    "cc.ticket-events",
    "tenant",
    _names("ccx.ticket"),
    public=True,
    doc=(
        "Tickets (work orders): created, assigned, status changes of the workflow, comments, "
        "attachments by reference, escalations, SLA definitions and breaches, and the customer "
        "notifications (SMS, email) a gateway delivers (docs/tickets.md)."
    ),
    ordering=(
        "Per tenant, in the order the tickets processor decided them; a ticket's events are never "
        "reordered. Not ordered against `cc.contact-events`: join by `contact_id`."
    ),
)
CUSTOMER_EVENTS = Topic(
    "cc.customer-events",
    "tenant",
    _names("ccx.customer"),
    public=True,
    doc=(
        "Customer profiles (names, E.164 phone numbers, emails, VIP, language, segment, attributes) "
        "as defined, updated and merged; each event carries the whole profile after the change "
        "(docs/customers.md)."
    ),
    ordering=(
        "Per tenant, in the order the customers processor decided them; the last event per customer "
        "is its profile. Not ordered against `cc.contact-events`."
    ),
)

ALL: tuple[Topic, ...] = (
    COMMANDS,
    CONTACT_EVENTS,
    AGENT_EVENTS,
    CONFIG_EVENTS,
    CDR,
    CONTACT_LEGS,
    IVR_EVENTS,
    TELEPHONY,
    RECORDING_EVENTS,
    COMMAND_RESULTS,
    DEAD_LETTER,
    SWITCH_ACTIONS,
    KB_EVENTS,
    TICKET_EVENTS,
    CUSTOMER_EVENTS,
)

_BY_TYPE: dict[str, Topic] = {}
for _t in ALL:
    for _name in _t.types:
        _BY_TYPE.setdefault(_name, _t)


def topic_for(type_name: str) -> Topic:
    """The topic a message of this type is written to."""
    return _BY_TYPE[type_name]


def by_name(name: str) -> Topic:
    for t in ALL:
        if t.name == name:
            return t
    raise KeyError(f"unknown topic {name!r}; known: {', '.join(t.name for t in ALL)}")


def markdown() -> str:
    """The topic table of docs/topics.md, generated from this registry."""
    lines = [
        "| topic | key | public | partitions | retention | message types |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in ALL:
        lines.append(
            f"| `{t.name}` | {t.key} | {'yes' if t.public else 'no'} | {t.partitions} | {t.retention} | "
            + ", ".join(f"`{n}`" for n in t.types)
            + " |"
        )
    lines.append("")
    for t in ALL:
        lines += [f"### `{t.name}`{'' if t.public else ' (internal)'}", "", t.doc, ""]
        lines.append(f"- **Key**: {t.key} (UTF-8); partition = murmur2(key) mod {t.partitions}, as Kafka's")
        lines.append(f"- **Ordering**: {t.ordering}")
        lines.append(f"- **Retention**: {t.retention}")
        lines.append("- **Schemas**: " + ", ".join(_schema_link(n) for n in t.types))
        lines.append("")
    return "\n".join(lines)


def _schema_link(type_name: str) -> str:
    spec = next((s for s in CATALOG if s.name == type_name), None)
    if spec is None:
        return f"`{type_name}`"
    return f"[`{type_name}`](../schemas/avro/{spec.subject}.v{spec.version}.avsc)"


if __name__ == "__main__":
    print(markdown(), end="")
