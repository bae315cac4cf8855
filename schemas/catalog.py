"""The catalog: every message type ccx writes, with the version of its schema.

Bump a type's version when its fields change; keep the change backward compatible (new
fields need defaults) and check in the new `.avsc` beside the old one
(`python -m schemas.avro --write`). `tests/unit/test_schema_contracts.py` reads the old
encoded samples under `schemas/samples/` with the new schemas.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas import (
    agent,
    cdr,
    commands,
    config,
    contact,
    customer_commands,
    customers,
    ivr,
    kb,
    kb_commands,
    legs,
    recording_commands,
    recordings,
    switch_actions,
    system,
    telephony,
    ticket_commands,
    tickets,
)

__all__ = ["BY_NAME", "CATALOG", "VERSIONS", "SchemaSpec", "spec_for"]


@dataclass(frozen=True, slots=True)
class SchemaSpec:
    cls: type
    version: int
    namespace: str

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def subject(self) -> str:
        """The fully qualified Avro name, also the Schema Registry subject suffix."""
        return f"{self.namespace}.{self.cls.__name__}"


# The current schema version of each type whose fields changed since version 1.
VERSIONS: dict[str, int] = {
    "DefineQueue": 2,
    "DefineAgent": 3,
    "RouteContact": 2,
    "QueueDefined": 2,
    "AgentDefined": 3,
    "ContactQueued": 2,
    "AgentStateChanged": 2,
    "CustomerNotificationRequested": 2,
    "SurveyAnswered": 2,
    "ContactRecord": 2,
}


def _specs(module: object, namespace: str) -> list[SchemaSpec]:
    names: list[str] = list(module.__all__)  # type: ignore[attr-defined]
    return [
        SchemaSpec(getattr(module, n), VERSIONS.get(n, 1), namespace)
        for n in names
        if isinstance(getattr(module, n), type) and n != "Candidate"
    ]


CATALOG: tuple[SchemaSpec, ...] = tuple(
    _specs(commands, "ccx.command")
    + _specs(contact, "ccx.contact")
    + _specs(agent, "ccx.agent")
    + _specs(config, "ccx.config")
    + _specs(cdr, "ccx.cdr")
    + _specs(system, "ccx.system")
    # new namespaces go last: a fresh schema store numbers ids in this order (streams.serde)
    + _specs(legs, "ccx.leg")
    + _specs(ivr, "ccx.ivr")
    + _specs(telephony, "ccx.telephony")
    + _specs(recordings, "ccx.recording")
    + _specs(recording_commands, "ccx.command")
    + _specs(switch_actions, "ccx.switch")
    + _specs(kb_commands, "ccx.command")
    + _specs(kb, "ccx.kb")
    + _specs(ticket_commands, "ccx.command")
    + _specs(tickets, "ccx.ticket")
    + _specs(customer_commands, "ccx.command")
    + _specs(customers, "ccx.customer")
)

BY_NAME: dict[str, SchemaSpec] = {s.name: s for s in CATALOG}
_BY_CLASS: dict[type, SchemaSpec] = {s.cls: s for s in CATALOG}


def spec_for(cls: type) -> SchemaSpec:
    try:
        return _BY_CLASS[cls]
    except KeyError:
        raise KeyError(f"{cls.__name__} is not in the schema catalog") from None
