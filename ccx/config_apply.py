"""`ccx config apply|show`: routing configuration into and out of the log.

`apply_file` reads the tenant's current configuration from `cc.config-events` (the ACD's
accepted definitions), parses and checks the file against it (`ccx.config_file`), skips
definitions that would change nothing (so applying the same file twice adds no rule
versions), appends the rest to `cc.commands` as one batch (actor `config:FILE`, event ids
derived from the file's content hash and position, correlation id `config:<hash>`) and
reports each command's outcome: the configuration event the ACD recorded, or its
rejection, or the dead letter.

The ACD must decide the commands for outcomes to exist. When no ACD consumes the log
(`EventLog.group_in_use`), this process runs one until idle; otherwise it waits for the
running ACD up to a timeout and reports what has not been decided yet.

`show_config` renders the accepted configuration (now, or as it was at a moment) in the
file's format, so "which rules applied at 10:03?" is `ccx config show --at 10:03`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ccx.bootstrap import open_log
from ccx.config_file import Known, file_tenant, parse_config
from ccx.settings import Settings
from processors.acd import acd_processor, agent_defined
from schemas.commands import (
    BlockNumber,
    DefineAgent,
    DefineDisposition,
    DefineQueue,
    DefineSchedule,
    DefineSkill,
)
from schemas.config import (
    AgentDefined,
    AgentQueuesChanged,
    DispositionDefined,
    NumberBlocked,
    NumberUnblocked,
    QueueDefined,
    ScheduleDefined,
    SkillDefined,
)
from schemas.envelope import Envelope, Message, derive_event_id
from schemas.routing import Membership
from schemas.system import CommandRejected, DeadLetter
from streams import topics
from streams.ports import EventLog, LogBusy
from streams.runner import Runner
from streams.serde import Serde
from streams.tail import read_all

__all__ = ["apply_file", "current_config", "show_config", "to_document"]


def current_config(
    log: EventLog, serde: Serde, tenant: str, at_ms: int | None = None
) -> dict[str, dict[str, Any]]:
    """The tenant's accepted definitions now (or at `at_ms`): {"skills": {id: SkillDefined},
    "schedules", "queues", "agents", "blocked", "dispositions"}, each the latest event per id
    (an agent moved between queues by a supervisor is shown with its new queues)."""
    sections = ("skills", "schedules", "queues", "agents", "blocked", "dispositions")
    out: dict[str, dict[str, Any]] = {k: {} for k in sections}
    for _r, m in read_all(log, serde, [topics.CONFIG_EVENTS.name]):
        if m.envelope.tenant != tenant or (at_ms is not None and m.envelope.occurred_at > at_ms):
            continue
        match m.body:
            case SkillDefined(skill_id=i):
                out["skills"][i] = m.body
            case ScheduleDefined(schedule_id=i):
                out["schedules"][i] = m.body
            case QueueDefined(queue_id=i):
                out["queues"][i] = m.body
            case AgentDefined(agent_id=i):
                out["agents"][i] = m.body
            case AgentQueuesChanged(agent_id=i, queues=qs) if i in out["agents"]:
                old = out["agents"][i]
                kept = {x.queue_id: x for x in old.memberships}
                memberships = tuple(kept.get(q) or Membership(q) for q in qs)
                out["agents"][i] = dataclasses.replace(old, queues=tuple(qs), memberships=memberships)
            case DispositionDefined(code=code):
                out["dispositions"][code] = m.body
            case NumberBlocked(number=n):
                out["blocked"][n] = m.body
            case NumberUnblocked(number=n):
                out["blocked"].pop(n, None)
    return out


def _unchanged(cmd: object, config: dict[str, dict[str, Any]]) -> bool:
    match cmd:
        case DefineSkill(skill_id=i, name=name):
            old = config["skills"].get(i)
            return old is not None and old.name == name
        case DefineSchedule(schedule_id=i):
            old = config["schedules"].get(i)
            return old is not None and dataclasses.astuple(old) == dataclasses.astuple(cmd)
        case DefineQueue(queue_id=i):
            old = config["queues"].get(i)
            if old is None:
                return False
            mine = dataclasses.asdict(cmd)
            theirs = {k: v for k, v in dataclasses.asdict(old).items() if k != "rule_version"}
            return mine == theirs
        case DefineAgent(agent_id=i):
            old = config["agents"].get(i)
            if old is None:
                return False
            new = agent_defined(cmd)
            return (old.name, set(old.memberships), set(old.skills), set(old.capacity), old.team) == (
                new.name,
                set(new.memberships),
                set(new.skills),
                set(new.capacity),
                new.team,
            )
        case DefineDisposition(code=code):
            old = config["dispositions"].get(code)
            return old is not None and (old.name, tuple(old.queues)) == (cmd.name, tuple(cmd.queues))
        case BlockNumber(number=n, reason=reason):
            old = config["blocked"].get(n)
            return old is not None and old.reason == reason
    return False


def _describe(body: object) -> str:
    match body:
        case QueueDefined(queue_id=i, rule_version=v, strategy=s):
            return f"queue {i} defined (rule version {v}, strategy {s})"
        case AgentDefined(agent_id=i, queues=qs):
            return f"agent {i} defined (queues {', '.join(qs)})"
        case SkillDefined(skill_id=i):
            return f"skill {i} defined"
        case ScheduleDefined(schedule_id=i, timezone=tz, windows=ws):
            return f"schedule {i} defined ({len(ws)} windows, {tz})"
        case NumberBlocked(number=n):
            return f"number {n} blocked"
        case DispositionDefined(code=code):
            return f"disposition {code} defined"
    return type(body).__name__


def _name(cmd: object) -> str:
    ident = next(
        getattr(cmd, f)
        for f in ("skill_id", "schedule_id", "queue_id", "agent_id", "number", "code")
        if hasattr(cmd, f)
    )
    return f"{type(cmd).__name__} {ident}"


def _run_acd_here(log: EventLog, serde: Serde) -> bool:
    """Decide pending commands in this process when no ACD consumes the log now."""
    if log.group_in_use("acd"):
        return False
    try:
        runner = Runner(acd_processor(), log, serde)
    except LogBusy:
        return False
    try:
        runner.run_until_idle()
    finally:
        runner.close()
    return True


def apply_file(
    settings: Settings, path: Path, *, dry_run: bool = False, timeout_s: float = 15.0
) -> list[dict[str, Any]]:
    """Apply a configuration file; one row per definition: {"command", "outcome", "detail"}.

    `outcome` is "unchanged", "would apply" (dry run), "accepted", "rejected",
    "dead-lettered" or "pending" (no ACD decided it within the timeout)."""
    log, serde = open_log(settings)
    try:
        tenant = file_tenant(path) or settings.tenant  # the YAML parses, before reading the log
        _run_acd_here(log, serde)  # commands still pending would make the comparison stale
        config = current_config(log, serde, tenant)
        known = Known(
            frozenset(config["skills"]), frozenset(config["schedules"]), frozenset(config["queues"])
        )
        _, commands = parse_config(path, known)
        rows: list[dict[str, Any]] = []
        todo = []
        for cmd in commands:
            if _unchanged(cmd, config):
                rows.append({"command": _name(cmd), "outcome": "unchanged", "detail": ""})
            else:
                todo.append(cmd)
        if dry_run or not todo:
            rows += [{"command": _name(c), "outcome": "would apply", "detail": ""} for c in todo]
            return rows
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        now = int(time.time() * 1000)
        messages = [
            Message(
                Envelope(
                    derive_event_id(f"config:{tenant}:{digest}:{now}", i),
                    tenant,
                    now,
                    f"config:{digest}",
                    None,
                    f"config:{path.name}",
                ),
                cmd,
            )
            for i, cmd in enumerate(todo)
        ]
        appended = log.append([serde.out(m) for m in messages])
        by_id = {m.envelope.event_id: (m, r) for m, r in zip(messages, appended, strict=True)}
        ran_here = _run_acd_here(log, serde)
        outcomes = _await_outcomes(log, serde, by_id, 0.0 if ran_here else timeout_s)
        for m in messages:
            outcome, detail = outcomes.get(m.envelope.event_id, ("pending", "no ACD has decided it yet"))
            rows.append({"command": _name(m.body), "outcome": outcome, "detail": detail})
        return rows
    finally:
        log.close()


def _await_outcomes(
    log: EventLog, serde: Serde, by_id: dict[str, tuple[Message[Any], Any]], timeout_s: float
) -> dict[str, tuple[str, str]]:
    deadline = time.monotonic() + timeout_s
    positions = {(r.topic, r.partition, r.offset): eid for eid, (_m, r) in by_id.items()}
    while True:
        found: dict[str, tuple[str, str]] = {}
        for _r, m in read_all(log, serde, [topics.CONFIG_EVENTS.name]):
            cause = m.envelope.causation_id
            if cause in by_id:
                found[cause] = ("accepted", _describe(m.body))
        for _r, m in read_all(log, serde, [topics.COMMAND_RESULTS.name]):
            body = m.body
            if isinstance(body, CommandRejected) and body.command_id in by_id:
                found[body.command_id] = ("rejected", f"{body.code}: {body.reason}")
        for _r, m in read_all(log, serde, [topics.DEAD_LETTER.name]):
            body = m.body
            if isinstance(body, DeadLetter):
                key = (body.source_topic, body.source_partition, body.source_offset)
                if key in positions and body.processor == "acd":
                    found[positions[key]] = ("dead-lettered", body.reason)
        if len(found) == len(by_id) or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def _hours(windows: Iterable[Any]) -> str:
    from ccx.config_file import DAYS

    def clock(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    return ", ".join(f"{DAYS[w.day]} {clock(w.start_min)}-{clock(w.end_min)}" for w in windows)


def to_document(config: dict[str, dict[str, Any]], tenant: str) -> dict[str, Any]:
    """The configuration as the YAML file's structure (defaults left out)."""
    defaults = {f.name: f.default for f in dataclasses.fields(DefineQueue)}
    queues = []
    for q in config["queues"].values():
        entry: dict[str, Any] = {"id": q.queue_id, "name": q.name}
        for name, value in dataclasses.asdict(q).items():
            if name in ("queue_id", "name", "rule_version", "required_skills", "relax", "overflow"):
                continue
            if value != defaults.get(name):
                entry[name] = value
        if q.required_skills:
            entry["required_skills"] = {s.skill: s.level for s in q.required_skills}
        if q.relax:
            entry["relax"] = [dataclasses.asdict(r) for r in q.relax]
        if q.overflow:
            entry["overflow"] = [
                {k: v for k, v in dataclasses.asdict(r).items() if v not in ("", 0)} for r in q.overflow
            ]
        queues.append(entry)
    agents = []
    for a in config["agents"].values():
        entry = {"id": a.agent_id, "name": a.name}
        entry["memberships"] = [
            {
                k: v
                for k, v in dataclasses.asdict(m).items()
                if (k, v) not in (("tier", 0), ("weight", 1), ("schedule", ""))
            }
            | {"queue": m.queue_id}
            for m in a.memberships
        ]
        for m in entry["memberships"]:
            m.pop("queue_id", None)
        if a.skills:
            entry["skills"] = {s.skill: s.level for s in a.skills}
        entry["capacity"] = {c.channel: c.max for c in a.capacity}
        if a.team:
            entry["team"] = a.team
        agents.append(entry)
    return {
        "tenant": tenant,
        "skills": [{"id": s.skill_id, "name": s.name} for s in config["skills"].values()],
        "schedules": [
            {
                "id": s.schedule_id,
                "name": s.name,
                "timezone": s.timezone,
                "hours": _hours(s.windows),
                "holidays": list(s.holidays),
            }
            for s in config["schedules"].values()
        ],
        "queues": queues,
        "agents": agents,
        "blocked": [{"number": b.number, "reason": b.reason} for b in config["blocked"].values()],
        "dispositions": [
            {"code": x.code, "name": x.name} | ({"queues": list(x.queues)} if x.queues else {})
            for x in config["dispositions"].values()
        ],
    }


def show_config(settings: Settings, at_ms: int | None = None) -> dict[str, Any]:
    log, serde = open_log(settings)
    try:
        return to_document(current_config(log, serde, settings.tenant, at_ms), settings.tenant)
    finally:
        log.close()
