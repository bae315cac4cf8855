"""Routing configuration as a YAML file: parse and check it, turn it into ACD commands.

`ccx config apply FILE.yaml` reads a file like `docs/examples/routing.yaml` with the
sections `skills`, `schedules`, `queues`, `agents` and `blocked`, and turns each entry into
the command that defines it (`DefineSkill`, `DefineSchedule`, `DefineQueue`,
`DefineAgent`, `BlockNumber`). Every problem is reported with the file, line and the path
of the field (`routing.yaml:14: queues[1].overflow[0].action: ...`), all of them at once,
before anything is sent: unknown keys (typos), wrong types, values out of range and
references to skills, schedules or queues that neither the file nor the log defines.

Queues are sent so that an overflow target is defined before the queue that names it.
The ACD checks everything again when it decides (and records what it accepted on
`cc.config-events`); this module only spares the user a round trip per typo.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from processors.schedule import schedule_problem
from processors.strategies import STRATEGIES
from schemas.commands import (
    BlockNumber,
    DefineAgent,
    DefineDisposition,
    DefineQueue,
    DefineSchedule,
    DefineSkill,
)
from schemas.routing import (
    CHANNELS,
    OVERFLOW_ACTIONS,
    OVERFLOW_WHEN,
    Capacity,
    Membership,
    OverflowRule,
    RelaxStep,
    SkillLevel,
    Window,
)

__all__ = [
    "ConfigError",
    "FieldChecker",
    "Known",
    "LinedLoader",
    "file_tenant",
    "parse_config",
    "parse_hours",
    "yaml_problem",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SECTIONS = ("tenant", "skills", "schedules", "queues", "agents", "blocked", "dispositions")
_QUEUE_DEFAULTS = {f.name: f.default for f in dataclasses.fields(DefineQueue)}


class ConfigError(ValueError):
    """The file has problems; `problems` lists each as "FILE:LINE: path: what is wrong"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Known:
    """What the log already defines (so the file may refer to it)."""

    skills: frozenset[str] = frozenset()
    schedules: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()


class LinedLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping and sequence item, and refuses
    a key given twice in one mapping (PyYAML would keep the last silently)."""


def _mapping_with_lines(loader: LinedLoader, node: yaml.MappingNode) -> dict[str, Any]:
    seen: set[object] = set()
    for key_node, _value in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key_node.value)
    value = _Lined({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    value.line = node.start_mark.line + 1
    value.key_lines = {
        k.value: k.start_mark.line + 1 for k, _v in node.value if isinstance(k, yaml.ScalarNode)
    }
    return value


LinedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)


class _Lined(dict[str, Any]):
    line = 0
    key_lines: dict[str, int]


class FieldChecker:
    """Collects problems as "FILE:LINE: path: reason" while a parser walks a loaded document."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[str] = []

    def fail(self, node: Any, path: str, what: str, key: str | None = None) -> None:
        line = 0
        if isinstance(node, _Lined):
            line = node.key_lines.get(key, node.line) if key else node.line
        self.problems.append(f"{self.file}:{line}: {path}: {what}")

    def mapping(self, node: Any, path: str, required: Iterable[str], optional: Iterable[str]) -> bool:
        if not isinstance(node, dict):
            self.fail(node, path, f"must be a mapping, not {type(node).__name__}")
            return False
        allowed = set(required) | set(optional)
        for key in node:
            if key not in allowed:
                self.fail(node, f"{path}.{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}", key)
        for key in required:
            if key not in node:
                self.fail(node, path, f"missing {key!r}")
        return all(k in node for k in required)

    def get(
        self, node: Mapping[str, Any], path: str, key: str, kind: type, default: Any, low: int | None = None
    ) -> Any:
        if key not in node:
            return default
        value = node[key]
        if kind is bool:
            if not isinstance(value, bool):
                self.fail(node, f"{path}.{key}", f"must be true or false, not {value!r}", key)
                return default
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(node, f"{path}.{key}", f"must be a whole number, not {value!r}", key)
                return default
        elif not isinstance(value, str):
            self.fail(node, f"{path}.{key}", f"must be text (quote it), not {value!r}", key)
            return default
        if low is not None and value < low:
            self.fail(node, f"{path}.{key}", f"must be >= {low}, not {value}", key)
            return default
        return value

    def items(self, node: Any, path: str, key: str) -> list[Any]:
        value = node.get(key, []) if isinstance(node, dict) else []
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(node, f"{path}.{key}" if path else key, "must be a list", key)
            return []
        return value

    def skills(self, node: Any, path: str, key: str, known: set[str]) -> tuple[SkillLevel, ...]:
        value = node.get(key, {}) if isinstance(node, dict) else {}
        if value in (None, {}):
            return ()
        if not isinstance(value, dict):
            self.fail(node, f"{path}.{key}", "must map skill ids to levels 1 to 5, e.g. {es: 3}", key)
            return ()
        out = []
        for skill, level in value.items():
            where = f"{path}.{key}.{skill}"
            if str(skill) not in known:
                self.fail(value, where, f"unknown skill {skill!r}; define it under skills", str(skill))
            elif isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
                self.fail(value, where, f"level must be 1 to 5, not {level!r}", str(skill))
            else:
                out.append(SkillLevel(str(skill), level))
        return tuple(out)


def parse_hours(text: str) -> tuple[Window, ...]:
    """`mon-fri 08:00-18:00, sat 09:00-13:00` as windows; raises ValueError naming the part."""
    windows: list[Window] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            days, span = part.split()
            start, end = span.split("-")
        except ValueError:
            raise ValueError(f"{part!r} is not like 'mon-fri 08:00-18:00'") from None
        first, _, last = days.lower().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"{days!r}: days are {', '.join(DAYS)} (a range like mon-fri)")
        d0, d1 = DAYS.index(first), DAYS.index(last or first)
        minutes = []
        for clock in (start, end):
            try:
                hh, mm = clock.split(":")
                minutes.append(int(hh) * 60 + int(mm))
            except ValueError:
                raise ValueError(f"{clock!r} is not a time like 08:00") from None
        if not 0 <= minutes[0] < minutes[1] <= 1440:
            raise ValueError(f"{span!r}: the start must be before the end, within 00:00-24:00")
        day = d0
        while True:
            windows.append(Window(day, minutes[0], minutes[1]))
            if day == d1:
                break
            day = (day + 1) % 7
    return tuple(windows)


def _order_queues(queues: list[DefineQueue]) -> list[DefineQueue]:
    """Overflow targets before the queues naming them (file order otherwise)."""
    by_id = {q.queue_id: q for q in queues}
    done: list[DefineQueue] = []
    seen: set[str] = set()

    def visit(q: DefineQueue, trail: tuple[str, ...]) -> None:
        if q.queue_id in seen:
            return
        if q.queue_id in trail:
            raise ConfigError([f"queues: overflow targets form a cycle: {' -> '.join((*trail, q.queue_id))}"])
        for rule in q.overflow:
            if rule.action == "queue" and rule.target in by_id:
                visit(by_id[rule.target], (*trail, q.queue_id))
        seen.add(q.queue_id)
        done.append(q)

    for q in queues:
        visit(q, ())
    return done


def _queue(
    ch: FieldChecker, node: Any, path: str, skills: set[str], schedules: set[str], queues: set[str]
) -> DefineQueue | None:
    fields = {f.name for f in dataclasses.fields(DefineQueue)} - {"queue_id"}
    if not ch.mapping(node, path, ["id"], fields):
        return None
    qid = ch.get(node, path, "id", str, "")
    kw: dict[str, Any] = {}
    for name in (
        "sl_threshold_s",
        "short_abandon_s",
        "ring_timeout_s",
        "wrap_up_s",
        "priority_aging_s",
        "max_waiting",
        "sticky_s",
    ):
        kw[name] = ch.get(node, path, name, int, _QUEUE_DEFAULTS[name], low=0)
    kw["priority"] = ch.get(node, path, "priority", int, 0)
    kw["max_tier"] = ch.get(node, path, "max_tier", int, -1, low=-1)
    for name in ("rona_not_ready", "auto_ready"):
        kw[name] = ch.get(node, path, name, bool, True)
    strategy = ch.get(node, path, "strategy", str, "longest_idle")
    if strategy not in STRATEGIES:
        ch.fail(
            node,
            f"{path}.strategy",
            f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}",
            "strategy",
        )
    hours = ch.get(node, path, "hours", str, "")
    if hours and hours not in schedules:
        ch.fail(node, f"{path}.hours", f"unknown schedule {hours!r}; define it under schedules", "hours")
    relax = []
    for i, step in enumerate(ch.items(node, path, "relax")):
        where = f"{path}.relax[{i}]"
        if ch.mapping(step, where, ["after_s"], ["max_tier", "skill_drop"]):
            relax.append(
                RelaxStep(
                    ch.get(step, where, "after_s", int, 0, low=0),
                    ch.get(step, where, "max_tier", int, -1, low=-1),
                    ch.get(step, where, "skill_drop", int, 0, low=0),
                )
            )
    overflow = []
    for i, rule in enumerate(ch.items(node, path, "overflow")):
        where = f"{path}.overflow[{i}]"
        if not ch.mapping(rule, where, ["when", "action"], ["target", "after_s"]):
            continue
        when, action = ch.get(rule, where, "when", str, ""), ch.get(rule, where, "action", str, "")
        target = ch.get(rule, where, "target", str, "")
        if when not in OVERFLOW_WHEN:
            ch.fail(rule, f"{where}.when", f"must be one of {', '.join(OVERFLOW_WHEN)}, not {when!r}", "when")
        if action not in OVERFLOW_ACTIONS:
            ch.fail(
                rule,
                f"{where}.action",
                f"must be one of {', '.join(OVERFLOW_ACTIONS)}, not {action!r}",
                "action",
            )
        if action == "callback" and when in ("full", "closed"):
            ch.fail(
                rule,
                f"{where}.action",
                f"a contact refused when {when!r} cannot wait for a callback",
                "action",
            )
        if action == "queue" and (target == qid or target not in queues):
            ch.fail(
                rule,
                f"{where}.target",
                f"must name another queue defined in the file or the log, not {target!r}",
                "target",
            )
        overflow.append(OverflowRule(when, action, target, ch.get(rule, where, "after_s", int, 0, low=0)))
    return DefineQueue(
        qid,
        ch.get(node, path, "name", str, qid),
        strategy=strategy,
        required_skills=ch.skills(node, path, "required_skills", skills),
        relax=tuple(relax),
        hours=hours,
        overflow=tuple(overflow),
        **kw,
    )


def _agent(
    ch: FieldChecker, node: Any, path: str, skills: set[str], schedules: set[str], queues: set[str]
) -> DefineAgent | None:
    if not ch.mapping(node, path, ["id"], ["name", "queues", "memberships", "skills", "capacity", "team"]):
        return None
    aid = ch.get(node, path, "id", str, "")
    plain = [str(q) for q in ch.items(node, path, "queues")]
    for q in plain:
        if q not in queues:
            ch.fail(node, f"{path}.queues", f"unknown queue {q!r}", "queues")
    memberships = []
    for i, m in enumerate(ch.items(node, path, "memberships")):
        where = f"{path}.memberships[{i}]"
        if not ch.mapping(m, where, ["queue"], ["tier", "weight", "schedule"]):
            continue
        q, schedule = ch.get(m, where, "queue", str, ""), ch.get(m, where, "schedule", str, "")
        if q not in queues:
            ch.fail(m, f"{where}.queue", f"unknown queue {q!r}", "queue")
        if schedule and schedule not in schedules:
            ch.fail(m, f"{where}.schedule", f"unknown schedule {schedule!r}", "schedule")
        memberships.append(
            Membership(
                q,
                ch.get(m, where, "tier", int, 0, low=0),
                ch.get(m, where, "weight", int, 1, low=1),
                schedule,
            )
        )
    capacity = []
    raw = node.get("capacity") or {}
    if not isinstance(raw, dict):
        ch.fail(node, f"{path}.capacity", "must map channels to counts, e.g. {voice: 1, chat: 3}", "capacity")
        raw = {}
    for channel, count in raw.items():
        if channel not in CHANNELS:
            ch.fail(
                raw, f"{path}.capacity.{channel}", f"unknown channel; use {', '.join(CHANNELS)}", str(channel)
            )
        elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
            ch.fail(raw, f"{path}.capacity.{channel}", f"must be a count >= 0, not {count!r}", str(channel))
        else:
            capacity.append(Capacity(channel, count))
    if not plain and not memberships:
        ch.fail(node, path, "an agent needs queues or memberships")
    return DefineAgent(
        aid,
        ch.get(node, path, "name", str, aid),
        tuple(plain),
        tuple(memberships),
        ch.skills(node, path, "skills", skills),
        tuple(capacity),
        ch.get(node, path, "team", str, ""),
    )


def _disposition(ch: FieldChecker, node: Any, path: str, queues: set[str]) -> DefineDisposition | None:
    if not ch.mapping(node, path, ["code"], ["name", "queues"]):
        return None
    code = ch.get(node, path, "code", str, "")
    allowed = [str(q) for q in ch.items(node, path, "queues")]
    for q in allowed:
        if q not in queues:
            ch.fail(node, f"{path}.queues", f"unknown queue {q!r}", "queues")
    return DefineDisposition(code, ch.get(node, path, "name", str, code), tuple(allowed))


def _schedule(ch: FieldChecker, node: Any, path: str) -> DefineSchedule | None:
    if not ch.mapping(node, path, ["id", "hours"], ["name", "timezone", "holidays"]):
        return None
    sid = ch.get(node, path, "id", str, "")
    try:
        windows = parse_hours(ch.get(node, path, "hours", str, ""))
    except ValueError as e:
        ch.fail(node, f"{path}.hours", str(e), "hours")
        return None
    holidays = tuple(str(h) for h in ch.items(node, path, "holidays"))
    tz = ch.get(node, path, "timezone", str, "UTC")
    problem = schedule_problem(tz, windows, holidays)
    if problem:
        ch.fail(node, path, problem)
        return None
    return DefineSchedule(sid, ch.get(node, path, "name", str, sid), tz, windows, holidays)


def _ids(ch: FieldChecker, entries: list[Any], section: str) -> set[str]:
    ids: set[str] = set()
    for i, e in enumerate(entries):
        if isinstance(e, dict) and "id" in e:
            key = str(e["id"])
            if key in ids:
                ch.fail(e, f"{section}[{i}].id", f"{key!r} is defined twice", "id")
            ids.add(key)
    return ids


def yaml_problem(error: yaml.YAMLError, name: str) -> str:
    """A YAML syntax error as "NAME:LINE: not valid YAML: what"."""
    mark = getattr(error, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    return f"{name}{line}: not valid YAML: {getattr(error, 'problem', error)}"


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.load(path.read_text(), Loader=LinedLoader)  # LinedLoader is a SafeLoader
    except yaml.YAMLError as e:
        raise ConfigError([yaml_problem(e, path.name)]) from None
    if not isinstance(doc, dict):
        raise ConfigError([f"{path.name}:1: the file must be a mapping with {', '.join(_SECTIONS)}"])
    return doc


def file_tenant(path: Path) -> str | None:
    """The tenant the file names, if any (the file must be valid YAML; nothing else checked)."""
    tenant = _load(path).get("tenant")
    return str(tenant) if tenant is not None else None


def parse_config(path: Path, known: Known = Known()) -> tuple[str | None, list[object]]:
    """(tenant named in the file or None, the commands in the order to send); ConfigError.
    `known` is what the log already defines, so the file may refer to it."""
    ch = FieldChecker(path.name)
    doc = _load(path)
    ch.mapping(doc, "file", [], _SECTIONS)
    sections = {s: ch.items(doc, "", s) for s in _SECTIONS[1:]}
    skill_ids = _ids(ch, sections["skills"], "skills") | set(known.skills)
    schedule_ids = _ids(ch, sections["schedules"], "schedules") | set(known.schedules)
    queue_ids = _ids(ch, sections["queues"], "queues") | set(known.queues)
    _ids(ch, sections["agents"], "agents")
    commands: list[object] = []
    for i, node in enumerate(sections["skills"]):
        if ch.mapping(node, f"skills[{i}]", ["id"], ["name"]):
            sid = ch.get(node, f"skills[{i}]", "id", str, "")
            commands.append(DefineSkill(sid, ch.get(node, f"skills[{i}]", "name", str, sid)))
    for i, node in enumerate(sections["schedules"]):
        if (s := _schedule(ch, node, f"schedules[{i}]")) is not None:
            commands.append(s)
    queues = [
        q
        for i, n in enumerate(sections["queues"])
        if (q := _queue(ch, n, f"queues[{i}]", skill_ids, schedule_ids, queue_ids))
    ]
    agents = [
        a
        for i, n in enumerate(sections["agents"])
        if (a := _agent(ch, n, f"agents[{i}]", skill_ids, schedule_ids, queue_ids))
    ]
    blocked = []
    for i, node in enumerate(sections["blocked"]):
        if ch.mapping(node, f"blocked[{i}]", ["number"], ["reason"]):
            blocked.append(
                BlockNumber(
                    ch.get(node, f"blocked[{i}]", "number", str, ""),
                    ch.get(node, f"blocked[{i}]", "reason", str, ""),
                )
            )
    dispositions = [
        x
        for i, n in enumerate(sections["dispositions"])
        if (x := _disposition(ch, n, f"dispositions[{i}]", queue_ids))
    ]
    if ch.problems:
        raise ConfigError(ch.problems)
    commands += [*_order_queues(queues), *agents, *dispositions, *blocked]
    tenant = doc.get("tenant")
    return (str(tenant) if tenant is not None else None), commands
