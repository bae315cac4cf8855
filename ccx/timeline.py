"""What auditors ask of the log: a contact's whole story, and everyone's state at a moment.

`contact_timeline` answers "why did this call go where it went?": every command that
concerned the contact or caused an event about it (a ready agent's command can be what
offered the contact), in log order, each followed by the events it caused in the order
they were decided (an event's id is derived from its command's id and its index, so the
order is exact, not a guess from timestamps). Offers carry the ACD's explanation: the
strategy, the queue's rule version, the reason and the candidates with their scores.
Rejections, the contact's queue legs and its CDR are part of the story.

`state_at` answers "what did the ACD see at 10:03?": it re-runs the ACD decider over
`cc.commands` up to that moment (the same replay the determinism tests check) and reports
every queue (its rules in force and the contacts waiting or ringing) and every agent.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from ccx.bootstrap import open_log
from ccx.settings import Settings
from processors.acd import ACD
from processors.acd_state import OFFERED, WAITING, TenantState
from processors.decider import Invalid, Rejected
from processors.dispatch import effective_priority
from schemas.cdr import ContactRecord
from schemas.contact import ContactOffered
from schemas.envelope import Message, derive, derive_event_id, iso_ms
from schemas.legs import QueueLeg
from schemas.system import CommandRejected
from streams import topics
from streams.tail import read_all

__all__ = ["contact_timeline", "tenant_timeline", "iso", "render_state", "render_timeline", "state_at"]

_OUTPUTS = (
    topics.CONTACT_EVENTS.name,
    topics.AGENT_EVENTS.name,
    topics.COMMAND_RESULTS.name,
    topics.CDR.name,
    topics.CONTACT_LEGS.name,
)


iso = iso_ms  # the one formatter of log times


def _fields(body: object) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(body).items()} if dataclasses.is_dataclass(body) else {}  # type: ignore[arg-type]


def _about(body: object, contact_id: str) -> bool:
    return contact_id in (getattr(body, "contact_id", None), getattr(body, "callback_contact_id", None))


def contact_timeline(settings: Settings, contact_id: str) -> list[dict[str, Any]]:
    """The contact's commands, each with the events it caused about the contact, in order."""
    log, serde = open_log(settings)
    try:
        commands = read_all(log, serde, [topics.COMMANDS.name])
        caused: dict[str, list[Message[Any]]] = defaultdict(list)
        for _r, m in read_all(log, serde, list(_OUTPUTS)):
            if m.envelope.causation_id:
                caused[m.envelope.causation_id].append(m)
    finally:
        log.close()
    steps: list[dict[str, Any]] = []
    for record, cmd in commands:
        cid = cmd.envelope.event_id
        results = caused.get(cid, [])
        order = {derive_event_id(cid, i): i for i in range(len(results) + 1)}
        results.sort(key=lambda m: order.get(m.envelope.event_id, len(order)))
        mine = [m for m in results if _about(m.body, contact_id) or isinstance(m.body, CommandRejected)]
        if not _about(cmd.body, contact_id) and not any(_about(m.body, contact_id) for m in mine):
            continue
        if not _about(cmd.body, contact_id):
            mine = [m for m in mine if not isinstance(m.body, CommandRejected)]
        events = []
        for m in mine:
            events.append({"at": iso(m.envelope.occurred_at), "type": m.type, **_fields(m.body)})
            built = caused.get(m.envelope.event_id, [])  # the CDR builder's queue legs, then its CDR
            for cdr in sorted(built, key=lambda b: isinstance(b.body, ContactRecord)):
                if isinstance(cdr.body, ContactRecord | QueueLeg):
                    events.append(
                        {"at": iso(cdr.envelope.occurred_at), "type": cdr.type, **_fields(cdr.body)}
                    )
        steps.append(
            {
                "at": iso(cmd.envelope.occurred_at),
                "command": cmd.type,
                "actor": cmd.envelope.actor,
                "tenant": cmd.envelope.tenant,
                "position": f"{record.topic}[{record.partition}]@{record.offset}",
                "body": _fields(cmd.body),
                "events": events,
            }
        )
    return steps


def _line(event: dict[str, Any]) -> str:
    skip = {"at", "type", "contact_id", "candidates"}
    if event["type"] in (ContactOffered.__name__, CommandRejected.__name__):
        skip.add("reason")  # printed below as "why"
    detail = ", ".join(f"{k}={v}" for k, v in event.items() if k not in skip and v not in ("", (), None))
    return f"    {event['at']}  {event['type']}" + (f" ({detail})" if detail else "")


def tenant_timeline(settings: Settings, tenant: str, contact_id: str) -> list[dict[str, Any]]:
    """`contact_timeline` limited to one tenant's commands (what the API shows a principal)."""
    return [step for step in contact_timeline(settings, contact_id) if step["tenant"] == tenant]


def render_timeline(contact_id: str, steps: list[dict[str, Any]]) -> str:
    if not steps:
        return f"no command or event mentions contact {contact_id!r}\n"
    out = [f"contact {contact_id}: {len(steps)} commands"]
    for step in steps:
        args = ", ".join(
            f"{k}={v}" for k, v in step["body"].items() if v not in ("", (), None) and k != "contact_id"
        )
        out.append(f"{step['at']}  {step['command']}({args})  by {step['actor']}  at {step['position']}")
        for e in step["events"]:
            out.append(_line(e))
            if e["type"] == ContactOffered.__name__:
                out.append(f"      why: {e['reason']}")
                for c in e["candidates"]:
                    out.append(f"      - {c['agent_id']:<12} score {c['score']:>10.3f}  {c['note']}")
            elif e["type"] == CommandRejected.__name__:
                out.append(f"      why: {e['reason']}")
    return "\n".join(out) + "\n"


def _tenant_view(t: TenantState, now: int) -> dict[str, Any]:
    queues = []
    for qid in sorted(t.queues):
        q = t.queues[qid]
        contacts = sorted(
            (c for c in t.contacts.values() if c.queue_id == qid and c.phase in (WAITING, OFFERED)),
            key=lambda c: (-effective_priority(q, c, now), c.seq),
        )
        queues.append(
            {
                "queue_id": qid,
                "name": q.name,
                "strategy": q.strategy,
                "rule_version": q.rule_version,
                "waiting": sum(1 for c in contacts if c.phase == WAITING),
                "ringing": sum(1 for c in contacts if c.phase == OFFERED),
                "longest_wait_s": max(((now - c.queued_at) / 1000 for c in contacts), default=0.0),
                "contacts": [
                    {
                        "contact_id": c.contact_id,
                        "phase": c.phase,
                        "priority": effective_priority(q, c, now),
                        "waiting_s": (now - c.queued_at) / 1000,
                        "ringing": list(c.offers),
                    }
                    for c in contacts
                ],
            }
        )
    agents = [
        {
            "agent_id": a.agent_id,
            "state": a.state,
            "presence": a.presence,
            "reason": a.reason,
            "since": iso(a.since) if a.since else "",
            "for_s": (now - a.since) / 1000 if a.since else 0.0,
            "queues": {m.queue_id: m.tier for m in a.memberships.values()},
            "work": [f"{w.contact_id} ({w.channel}, {w.phase})" for w in a.work],
        }
        for a in sorted(t.agents.values(), key=lambda a: a.agent_id)
    ]
    return {"queues": queues, "agents": agents}


def state_at(settings: Settings, at_ms: int) -> dict[str, Any]:
    """Every tenant's queues and agents as the ACD saw them at `at_ms`, by replaying the
    ACD over the commands of each partition up to the first command after that moment."""
    log, serde = open_log(settings)
    try:
        commands = read_all(log, serde, [topics.COMMANDS.name])
    finally:
        log.close()
    acd = ACD()
    state = acd.initial_state()
    stopped: set[int] = set()
    replayed = 0
    for record, cmd in commands:
        if record.partition in stopped:
            continue
        if cmd.envelope.occurred_at > at_ms:
            stopped.add(record.partition)
            continue
        try:
            bodies = acd.decide(state, cmd)
        except (Rejected, Invalid):  # rejected or dead-lettered when it ran: changed nothing then either
            continue
        for i, body in enumerate(bodies):
            state = acd.evolve(state, derive(cmd, body, i))
        replayed += 1
    return {
        "at": iso(at_ms),
        "commands_replayed": replayed,
        "tenants": {name: _tenant_view(t, at_ms) for name, t in sorted(state.tenants.items())},
    }


def render_state(view: dict[str, Any]) -> str:
    """`state_at`'s answer as tables: per tenant its queues (with the contacts in them) and agents."""
    lines = [f"state at {view['at']} ({view['commands_replayed']} commands replayed)"]
    for tenant, t in view["tenants"].items():
        lines.append(f"tenant {tenant}")
        lines.append(
            f"  {'queue':<14}{'strategy':<17}{'rules':>6}{'waiting':>9}{'ringing':>9}{'longest':>10}"
        )
        for q in t["queues"]:
            lines.append(
                f"  {q['queue_id']:<14}{q['strategy']:<17}{'v' + str(q['rule_version']):>6}"
                f"{q['waiting']:>9}{q['ringing']:>9}{q['longest_wait_s']:>9.0f}s"
            )
            for c in q["contacts"]:
                ringing = f" ringing {', '.join(c['ringing'])}" if c["ringing"] else ""
                lines.append(
                    f"      {c['contact_id']:<16}{c['phase']:<9}prio {c['priority']:<4}"
                    f"{c['waiting_s']:>7.0f}s{ringing}"
                )
        lines.append(f"  {'agent':<14}{'state':<11}{'presence':<11}{'reason':<14}{'for':>8}  work")
        for a in t["agents"]:
            lines.append(
                f"  {a['agent_id']:<14}{a['state']:<11}{a['presence']:<11}{a['reason']:<14}"
                f"{a['for_s']:>7.0f}s  {'; '.join(a['work'])}"
            )
    return "\n".join(lines) + "\n"
