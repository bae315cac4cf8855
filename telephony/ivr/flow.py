"""Check an IVR flow file and turn it into a `Flow`, reporting every problem at once.

`parse_flow(doc, checker)` takes the YAML document as loaded with line marks and a
factory of checkers that record "FILE:LINE: path: reason" problems. Both come from the
routing file's loader (`ccx.config_file`), wired by `ccx.ivr.load_flow`: nothing in
`telephony` imports `ccx`, so the loader is handed in rather than imported. Rules
(docs/ivr.md): known node types and keys, right types and ranges, every reference to a
node exists, DTMF digits are 0-9 * #, templates are well formed, a sensitive attribute is
used in a lookup URL only, and every cycle goes through a `goto` node (whose visit limit
ends it). Nodes the start cannot reach are warnings, returned beside the flow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from processors.schedule import schedule_problem
from telephony.ivr import template
from telephony.ivr.model import (
    Branch,
    Callback,
    Collect,
    Flow,
    Goto,
    Hangup,
    Hours,
    Lookup,
    Menu,
    Node,
    Play,
    Prompt,
    Route,
    SetAttributes,
    Survey,
    Voicemail,
)

__all__ = ["DAYS", "DTMF", "NODE_TYPES", "Checker", "FlowError", "parse_flow"]

DTMF = "0123456789*#"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PROMPTS = ("prompt", "invalid_prompt", "timeout_prompt")
# type: (required keys, optional keys); every node may also have a `description`.
NODE_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "play": (("prompt", "next"), ()),
    "menu": (("prompt", "options", "fallback"), ("timeout_s", "retries", "invalid_prompt", "timeout_prompt")),
    "collect": (
        ("prompt", "attribute", "next", "fallback"),
        (
            "min_length",
            "max_length",
            "terminator",
            "timeout_s",
            "retries",
            "pattern",
            "sensitive",
            "invalid_prompt",
        ),
    ),
    "lookup": (("url", "next", "on_failure"), ("method", "timeout_s", "map")),
    "set": (("attributes", "next"), ()),
    "branch": (("value", "cases", "default"), ()),
    "hours": (("timezone", "days", "from", "to", "open", "closed"), ("holidays",)),
    "goto": (("next", "limit", "fallback"), ()),
    "route": (("queue",), ("priority", "skills", "prompt")),
    "voicemail": (("box",), ("prompt",)),
    "callback": (("queue",), ("number", "priority", "prompt")),
    "survey": (("question", "prompt", "next"), ("timeout_s", "retries")),
    "hangup": ((), ("prompt",)),
}


class FlowError(ValueError):
    """The flow file has problems; `problems` lists each as "FILE:LINE: path: reason"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Checker(Protocol):
    """Records problems with the file and line of a node (`ccx.config_file`'s checker)."""

    problems: list[str]

    def fail(self, node: Any, path: str, what: str, key: str | None = None) -> None: ...

    def mapping(self, node: Any, path: str, required: Iterable[str], optional: Iterable[str]) -> bool: ...

    def get(
        self, node: Mapping[str, Any], path: str, key: str, kind: type, default: Any, low: int | None = None
    ) -> Any: ...


class _Parse:
    def __init__(self, doc: Mapping[str, Any], ch: Checker, sensitive: set[str]) -> None:
        self.doc, self.ch, self.sensitive = doc, ch, sensitive
        self.refs: list[tuple[Any, str, str, str]] = []  # (mapping, path, key, target)
        self.edges: dict[str, list[tuple[str, bool]]] = {}  # node -> [(target, via goto.next)]
        self.used: list[tuple[Any, str, str, str]] = []  # attribute names templates use
        self.set_names: set[str] = set()

    # ---- values ----

    def ref(self, node: Any, path: str, key: str, nid: str, goto: bool = False) -> str:
        target = self.ch.get(node, path, key, str, "")
        if key in node and isinstance(node[key], str):
            self.refs.append((node, f"{path}.{key}", key, target))
            self.edges.setdefault(nid, []).append((target, goto))
        return str(target)

    def text(
        self,
        node: Any,
        path: str,
        key: str,
        default: str = "",
        url: bool = False,
        scalars: bool = False,
        required: bool = False,
    ) -> str:
        """A template field; `scalars`: true/false and numbers are taken as their text too;
        `required`: it must not be empty (a missing key is reported by `mapping`)."""
        value = node.get(key, default)
        if scalars and isinstance(value, bool | int | float):
            return template.scalar(value)
        if not isinstance(value, str):
            self.ch.fail(node, f"{path}.{key}", f"must be text (quote it), not {value!r}", key)
            return default
        if required and key in node and not value.strip():
            self.ch.fail(node, f"{path}.{key}", "must not be empty", key)
        return self.template(node, f"{path}.{key}", key, value, url)

    def template(self, node: Any, path: str, key: str, value: str, url: bool = False) -> str:
        if problem := template.problems(value):
            self.ch.fail(node, path, problem, key)
        for name in template.names(value):
            self.used.append((node, path, key, name))
            if name in self.sensitive and not url:
                self.ch.fail(
                    node,
                    path,
                    f"{{{name}}} is sensitive: it may only be sent in a lookup url, never played or stored",
                    key,
                )
        return value

    def number(self, node: Any, path: str, key: str, default: int, low: int, high: int | None = None) -> int:
        value = self.ch.get(node, path, key, int, default, low=low)
        if high is not None and isinstance(value, int) and value > high:
            self.ch.fail(node, f"{path}.{key}", f"must be <= {high}, not {value}", key)
            return default
        return int(value)

    def attr_name(self, node: Any, path: str, key: str) -> str:
        name = str(self.ch.get(node, path, key, str, ""))
        if key in node and not _ATTR.match(name):
            self.ch.fail(
                node, f"{path}.{key}", f"{name!r} is not an attribute name (letters, digits, _)", key
            )
        self.set_names.add(name)
        return name

    def pairs(self, node: Any, path: str, key: str) -> list[tuple[Any, str, Any]]:
        """The entries of a mapping field as (the mapping, key, value)."""
        if key not in node:
            return []  # reported as missing
        value = node[key]
        if not isinstance(value, dict) or not value:
            self.ch.fail(node, f"{path}.{key}", f"must be a non-empty mapping, not {value!r}", key)
            return []
        return [(value, str(k), v) for k, v in value.items()]

    def prompt(self, node: Any, path: str, key: str) -> Prompt | None:
        if key not in node:
            return None
        value, where = node[key], f"{path}.{key}"
        if isinstance(value, str):
            return Prompt(file=self.template(node, where, key, value))
        if isinstance(value, dict) and self.ch.mapping(value, where, (), ("file", "tts")):
            if len(value) != 1:
                self.ch.fail(node, where, "give exactly one of file or tts", key)
                return None
            (kind,) = value
            return Prompt(**{kind: self.text(value, where, kind)})
        if not isinstance(value, dict):
            self.ch.fail(node, where, f"must be a prompt file name or {{tts: text}}, not {value!r}", key)
        return None

    def digit_key(self, mapping: Any, path: str, digit: str, allowed: str = DTMF) -> bool:
        if len(digit) != 1 or digit not in allowed:
            self.ch.fail(
                mapping, path, f"{digit!r} is not a DTMF digit ({' '.join(allowed)}); quote # and *", digit
            )
            return False
        return True

    # ---- nodes ----

    def node(self, nid: str, n: Any, path: str) -> Node | None:
        ch = self.ch
        kind = n.get("type") if isinstance(n, dict) else None
        if kind not in NODE_TYPES:
            if isinstance(n, dict):
                ch.fail(
                    n,
                    f"{path}.type",
                    f"unknown node type {kind!r}; use one of {', '.join(NODE_TYPES)}",
                    "type",
                )
            else:
                ch.fail(self.doc.get("nodes"), path, f"must be a mapping with a type, not {n!r}", nid)
            return None
        required, optional = NODE_TYPES[kind]
        # a node missing keys is still checked through, so every problem shows at once
        ch.mapping(n, path, required, ("type", "description", *optional))
        opt = self.prompt(n, path, "prompt")
        prompt = opt or Prompt()
        if kind == "play":
            return Play(nid, prompt, self.ref(n, path, "next", nid))
        if kind == "menu":
            options = []
            for m, digit, target in self.pairs(n, path, "options"):
                where = f"{path}.options.{digit}"
                if self.digit_key(m, where, digit) and isinstance(target, str):
                    self.refs.append((m, where, digit, target))
                    self.edges.setdefault(nid, []).append((target, False))
                    options.append((digit, target))
                elif not isinstance(target, str):
                    ch.fail(m, where, f"must name a node, not {target!r}", digit)
            return Menu(
                nid,
                prompt,
                tuple(options),
                self.ref(n, path, "fallback", nid),
                self.number(n, path, "timeout_s", 5, 1, 120),
                self.number(n, path, "retries", 2, 0, 10),
                self.prompt(n, path, "invalid_prompt"),
                self.prompt(n, path, "timeout_prompt"),
            )
        if kind == "collect":
            return self.collect(nid, n, path, prompt)
        if kind == "lookup":
            method = ch.get(n, path, "method", str, "GET")
            if method not in ("GET", "POST"):
                ch.fail(n, f"{path}.method", f"must be GET or POST, not {method!r}", "method")
            url = self.text(n, path, "url", url=True)
            if not re.match(r"https?://", url):
                ch.fail(n, f"{path}.url", f"must start with http:// or https://, not {url!r}", "url")
            mapping = []
            for m, attr, _tpl in self.pairs(n, path, "map") if "map" in n else []:
                if not _ATTR.match(attr):
                    ch.fail(m, f"{path}.map.{attr}", f"{attr!r} is not an attribute name", attr)
                self.set_names.add(attr)
                mapping.append((attr, self.text(m, f"{path}.map", attr)))
            return Lookup(
                nid,
                url,
                self.ref(n, path, "next", nid),
                self.ref(n, path, "on_failure", nid),
                str(method),
                self.number(n, path, "timeout_s", 3, 1, 60),
                tuple(mapping),
            )
        if kind == "set":
            values = []
            for m, attr, _v in self.pairs(n, path, "attributes"):
                if not _ATTR.match(attr):
                    ch.fail(m, f"{path}.attributes.{attr}", f"{attr!r} is not an attribute name", attr)
                self.set_names.add(attr)
                values.append((attr, self.text(m, f"{path}.attributes", attr, scalars=True)))
            return SetAttributes(nid, tuple(values), self.ref(n, path, "next", nid))
        if kind == "branch":
            cases = []
            for m, value, target in self.pairs(n, path, "cases"):
                if isinstance(target, str):
                    self.refs.append((m, f"{path}.cases.{value}", value, target))
                    self.edges.setdefault(nid, []).append((target, False))
                    cases.append((value, target))
                else:
                    ch.fail(m, f"{path}.cases.{value}", f"must name a node, not {target!r}", value)
            return Branch(
                nid,
                self.text(n, path, "value", required=True),
                tuple(cases),
                self.ref(n, path, "default", nid),
            )
        if kind == "hours":
            return self.hours(nid, n, path)
        if kind == "goto":
            return Goto(
                nid,
                self.ref(n, path, "next", nid, goto=True),
                self.number(n, path, "limit", 1, 1, 100),
                self.ref(n, path, "fallback", nid),
            )
        if kind == "route":
            return Route(
                nid,
                self.text(n, path, "queue", required=True),
                self.priority(n, path),
                self.skills(n, path),
                opt,
            )
        if kind == "voicemail":
            return Voicemail(nid, self.text(n, path, "box", required=True), opt)
        if kind == "callback":
            number = self.text(n, path, "number")
            return Callback(
                nid, self.text(n, path, "queue", required=True), number, self.priority(n, path), opt
            )
        if kind == "survey":
            return Survey(
                nid,
                self.text(n, path, "question", required=True),
                prompt,
                self.ref(n, path, "next", nid),
                self.number(n, path, "timeout_s", 5, 1, 120),
                self.number(n, path, "retries", 1, 0, 10),
            )
        return Hangup(nid, opt)

    def collect(self, nid: str, n: Any, path: str, prompt: Prompt) -> Collect:
        ch = self.ch
        attribute = self.attr_name(n, path, "attribute")
        sensitive = ch.get(n, path, "sensitive", bool, False)
        low = self.number(n, path, "min_length", 1, 1, 64)
        high = self.number(n, path, "max_length", max(16, low), 1, 64)
        if high < low:
            ch.fail(n, f"{path}.max_length", f"must be >= min_length ({low}), not {high}", "max_length")
        terminator = ch.get(n, path, "terminator", str, "#")
        if terminator not in ("", "#", "*"):
            ch.fail(
                n, f"{path}.terminator", f'must be "#", "*" or "" (none), not {terminator!r}', "terminator"
            )
        pattern = ch.get(n, path, "pattern", str, "")
        try:
            re.compile(pattern)
        except re.error as e:
            ch.fail(n, f"{path}.pattern", f"not a regular expression: {e}", "pattern")
        return Collect(
            nid,
            prompt,
            attribute,
            self.ref(n, path, "next", nid),
            self.ref(n, path, "fallback", nid),
            low,
            high,
            str(terminator),
            self.number(n, path, "timeout_s", 5, 1, 120),
            self.number(n, path, "retries", 2, 0, 10),
            str(pattern),
            bool(sensitive),
            self.prompt(n, path, "invalid_prompt"),
        )

    def hours(self, nid: str, n: Any, path: str) -> Hours:
        ch = self.ch
        timezone = str(ch.get(n, path, "timezone", str, "UTC"))
        days: list[int] = []
        for part in str(ch.get(n, path, "days", str, "")).replace(" ", "").split(","):
            first, _, last = part.lower().partition("-")
            if first not in DAYS or (last and last not in DAYS):
                ch.fail(n, f"{path}.days", f"{part!r}: use days like mon-fri or sat,sun", "days")
                continue
            day = DAYS.index(first)
            while day not in days:
                days.append(day)
                if day == DAYS.index(last or first):
                    break
                day = (day + 1) % 7
        minutes = []
        for key in ("from", "to"):
            clock = str(ch.get(n, path, key, str, "00:00"))
            m = re.fullmatch(r"(\d{1,2}):(\d\d)", clock)
            if m is None or int(m.group(1)) * 60 + int(m.group(2)) > 1440 or int(m.group(2)) > 59:
                ch.fail(n, f"{path}.{key}", f"{clock!r} is not a time like 08:00 (quote it)", key)
                minutes.append(0)
            else:
                minutes.append(int(m.group(1)) * 60 + int(m.group(2)))
        if minutes[0] >= minutes[1]:
            ch.fail(n, f"{path}.to", "must be after from (a window within one day)", "to")
        holidays = tuple(str(h) for h in n.get("holidays") or ())
        if problem := schedule_problem(timezone, (), holidays):
            key = problem.split(":")[0].split("[")[0]
            ch.fail(n, f"{path}.{key}", problem.split(": ", 1)[1], key)
        return Hours(
            nid,
            timezone,
            tuple(sorted(days)),
            minutes[0],
            minutes[1],
            self.ref(n, path, "open", nid),
            self.ref(n, path, "closed", nid),
            holidays,
        )

    def priority(self, n: Any, path: str) -> str:
        value = n.get("priority", 0)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and template.names(value):
            return self.template(n, f"{path}.priority", "priority", value)
        self.ch.fail(
            n,
            f"{path}.priority",
            f"must be a whole number or a template like '{{prio}}', not {value!r}",
            "priority",
        )
        return "0"

    def skills(self, n: Any, path: str) -> tuple[tuple[str, str], ...]:
        if "skills" not in n:
            return ()
        out = []
        for m, skill, level in self.pairs(n, path, "skills"):
            where = f"{path}.skills.{skill}"
            self.template(m, where, skill, skill)
            if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 5:
                out.append((skill, str(level)))
            elif isinstance(level, str) and template.names(level):
                out.append((skill, self.template(m, where, skill, level)))
            else:
                self.ch.fail(m, where, f"level must be 1 to 5 or a template, not {level!r}", skill)
        return tuple(out)


def _cycle(edges: Mapping[str, list[tuple[str, bool]]], order: list[str]) -> list[str]:
    """A cycle that avoids every goto `next` edge, as a node path, or []."""
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(nid: str) -> list[str]:
        state[nid] = 1
        trail.append(nid)
        for target, via_goto in edges.get(nid, []):
            if via_goto or target not in order:
                continue
            if state.get(target) == 1:
                return [*trail[trail.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        trail.pop()
        state[nid] = 2
        return []

    for nid in order:
        if nid not in state and (found := visit(nid)):
            return found
    return []


def parse_flow(doc: Any, checker: Callable[[], Checker]) -> tuple[Flow, list[str]]:
    """(the flow, warnings) of a loaded flow document; raises FlowError listing every problem."""
    ch, warn = checker(), checker()
    if not ch.mapping(doc, "flow", ("id", "version", "start", "nodes"), ("description",)):
        raise FlowError(ch.problems)
    fid = str(ch.get(doc, "flow", "id", str, ""))
    version = ch.get(doc, "flow", "version", int, 1, low=1)
    start = str(ch.get(doc, "flow", "start", str, ""))
    raw = doc["nodes"]
    if not isinstance(raw, dict) or not raw:
        ch.fail(doc, "nodes", "must map node ids to nodes", "nodes")
        raise FlowError(ch.problems)
    sensitive = {
        str(n.get("attribute"))
        for n in raw.values()
        if isinstance(n, dict) and n.get("type") == "collect" and n.get("sensitive") is True
    }
    p = _Parse(doc, ch, sensitive)
    nodes = []
    for nid, n in raw.items():
        if not _ID.match(nid):
            ch.fail(raw, f"nodes.{nid}", "a node id is letters, digits, _ and -", nid)
        if (node := p.node(nid, n, f"nodes.{nid}")) is not None:
            nodes.append(node)
    ids = list(raw)
    if start not in raw and isinstance(doc.get("start"), str):
        ch.fail(doc, "start", f"unknown node {start!r}; nodes are {', '.join(ids)}", "start")
    for mapping, where, key, target in p.refs:
        if target not in raw:
            ch.fail(mapping, where, f"unknown node {target!r}; nodes are {', '.join(ids)}", key)
    if cycle := _cycle(p.edges, ids):
        ch.fail(
            raw,
            f"nodes.{cycle[0]}",
            f"the flow loops without a goto node: {' -> '.join(cycle)} (put a goto with a limit in the loop)",
            cycle[0],
        )
    if ch.problems:
        raise FlowError(sorted(ch.problems, key=_line))
    reached, todo = {start}, [start]
    while todo:
        for target, _goto in p.edges.get(todo.pop(), []):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    for nid in ids:
        if nid not in reached:
            warn.fail(raw, f"nodes.{nid}", f"warning: unreachable from start {start!r}", nid)
    known = set(template.BUILTINS) | p.set_names
    for mapping, where, key, name in p.used:
        if name.split(".")[0] not in known and not (name.startswith("answer") and ".map" in where):
            warn.fail(
                mapping, where, f"warning: no node sets {{{name}}} (it renders empty unless given)", key
            )
    return Flow(fid, int(version), start, tuple(nodes)), sorted(warn.problems, key=_line)


def _line(problem: str) -> int:
    """The line of a "FILE:LINE: ..." problem, to list them in file order."""
    parts = problem.split(":", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0
