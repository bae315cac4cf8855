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
    "COMMAND_RESULTS",
    "DEAD_LETTER",
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


def _names(namespace: str) -> tuple[str, ...]:
    return tuple(s.name for s in CATALOG if s.namespace == namespace)


COMMANDS = Topic(
    "cc.commands",
    "tenant",
    _names("ccx.command"),
    doc="Commands and switch facts for the ACD; one partition owns a tenant's routing.",
)
CONTACT_EVENTS = Topic(
    "cc.contact-events",
    "tenant",
    _names("ccx.contact"),
    public=True,
    doc="Contact lifecycle decided by the ACD, in decision order per tenant.",
)
AGENT_EVENTS = Topic(
    "cc.agent-events",
    "tenant",
    _names("ccx.agent"),
    public=True,
    doc="Agent login and state transitions, in decision order per tenant.",
)
CONFIG_EVENTS = Topic(
    "cc.config-events",
    "tenant",
    _names("ccx.config"),
    public=True,
    doc="Queue and agent configuration as accepted by the ACD, versioned.",
)
CDR = Topic(
    "cc.cdr",
    "contact_id",
    _names("ccx.cdr"),
    public=True,
    doc="One contact detail record per finished contact, for billing and ERP.",
)
COMMAND_RESULTS = Topic(
    "cc.command-results",
    "tenant",
    ("CommandRejected",),
    retention_ms=7 * 24 * 3600 * 1000,
    doc="Rejections of well-formed commands (state conflicts), for the API's round trip.",
)
DEAD_LETTER = Topic(
    "cc.dead-letter",
    "source topic",
    ("DeadLetter",),
    partitions=1,
    doc="Input that could not be decoded or validated, kept whole with the reason.",
)

ALL: tuple[Topic, ...] = (
    COMMANDS,
    CONTACT_EVENTS,
    AGENT_EVENTS,
    CONFIG_EVENTS,
    CDR,
    COMMAND_RESULTS,
    DEAD_LETTER,
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
        retention = (
            "compacted"
            if t.compacted
            else ("forever" if t.retention_ms < 0 else f"{t.retention_ms // 86_400_000} d")
        )
        lines.append(
            f"| `{t.name}` | {t.key} | {'yes' if t.public else 'no'} | {t.partitions} | {retention} | "
            + ", ".join(f"`{n}`" for n in t.types)
            + " |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
