"""infra/asterisk/ checked against the code, without Asterisk (Docker does not run here).

The .conf files are parsed with a small reader of Asterisk's format (below): `[name]`,
`[name](!)` templates, `[name](template,...)` inheritance, `[name](+)` additions,
`key = value` and `key => value`, `;` comments, `#include`; dialplan `exten =>` and
`same =>` lines. Checked:

- every dialplan context ccx relies on exists (the switchboard's defaults, the contexts
  named in ccx/switchboard.py and docs/telephony.md, the two modes' contexts), and every
  `Goto`/`Gosub` to a literal place lands on an extension that exists;
- PJSIP: the endpoints' contexts exist, agents a1..a4 are complete (endpoint, auth, aor)
  and dialable as the switchboard dials them, queue members are endpoints;
- app_queue: every queue sends the member events the mapper maps;
- AMI: the user's read classes are exactly the classes of the events the mapper handles
  (and of the UserEvent the dialplan sends for ccx), its write classes the fewest that let
  it run every action the client sends, logins only from the compose subnet;
- no secret is committed, and the compose service mounts every file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from processors.switchboard import SwitchboardConfig
from telephony.ami.mapper import AmiMapper

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "infra/asterisk"
FILES = ("manager.conf", "pjsip.conf", "extensions.conf", "queues.conf", "musiconhold.conf")

# ---- a reader of Asterisk's configuration format


@dataclass
class Section:
    name: str
    line: int
    template: bool = False
    append: bool = False
    inherits: tuple[str, ...] = ()
    items: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str) -> list[str]:
        return [v for k, v in self.items if k == key]


@dataclass
class Conf:
    sections: list[Section]
    includes: list[str]

    def named(self, name: str) -> list[Section]:
        return [s for s in self.sections if s.name == name and not s.append]

    def resolved(self, section: Section) -> dict[str, str]:
        """The section's options with its templates' (a later value wins, as in Asterisk)."""
        options: dict[str, str] = {}
        for parent in section.inherits:
            templates = [s for s in self.sections if s.name == parent and s.template]
            assert templates, f"[{section.name}] inherits unknown template {parent!r}"
            options.update(self.resolved(templates[-1]))
        options.update(dict(section.items))
        return options

    def of_type(self, kind: str) -> dict[str, dict[str, str]]:
        """pjsip.conf: the concrete sections of a `type`, by name."""
        found = {}
        for s in self.sections:
            if s.template or s.append:
                continue
            options = self.resolved(s)
            if options.get("type") == kind:
                found[s.name] = options
        return found


_HEADER = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?$")


def strip_comment(line: str) -> str:
    return re.sub(r"(?<!\\);.*", "", line).strip()


def parse(text: str) -> Conf:
    sections: list[Section] = []
    includes: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = strip_comment(raw)
        if not line:
            continue
        if line.startswith("#"):
            directive, _, arg = line.partition(" ")
            assert directive in ("#include", "#tryinclude"), f"line {number}: {line}"
            includes.append(arg.strip().strip('"'))
            continue
        header = _HEADER.match(line)
        if header:
            flags = [f.strip() for f in (header.group(2) or "").split(",") if f.strip()]
            sections.append(
                Section(
                    header.group(1),
                    number,
                    template="!" in flags,
                    append="+" in flags,
                    inherits=tuple(f for f in flags if f not in ("!", "+")),
                )
            )
            continue
        key, sep, value = line.partition("=")
        assert sep and sections, f"line {number}: not `key = value` in a section: {raw!r}"
        sections[-1].items.append((key.strip(), value.lstrip(">").strip()))
    return Conf(sections, includes)


@cache
def conf(name: str) -> Conf:
    return parse((CONF / name).read_text())


# ---- the dialplan


@dataclass(frozen=True)
class Step:
    context: str
    exten: str
    priority: str
    label: str
    app: str
    data: str


_APP = re.compile(r"^(\w+)\((.*)\)$|^(\w+)$")


def steps() -> list[Step]:
    out: list[Step] = []
    for s in conf("extensions.conf").sections:
        if s.name in ("general", "globals"):
            continue
        exten = ""
        for key, value in s.items:
            if key == "exten":
                exten, priority, command = (p.strip() for p in value.split(",", 2))
            elif key == "same":
                priority, command = (p.strip() for p in value.split(",", 1))
            else:
                raise AssertionError(f"[{s.name}]: {key} (only exten and same in a context)")
            assert exten, f"[{s.name}]: `same` before any `exten`"
            label = ""
            labelled = re.fullmatch(r"(\w+)\((\w+)\)", priority)
            if labelled:
                priority, label = labelled.groups()
            app = _APP.match(command)
            assert app, f"[{s.name}] {exten},{priority}: {command!r} is no Application(args)"
            out.append(Step(s.name, exten, priority, label, app.group(1) or app.group(3), app.group(2) or ""))
    return out


def contexts() -> dict[str, list[Step]]:
    by: dict[str, list[Step]] = {}
    for step in steps():
        by.setdefault(step.context, []).append(step)
    return by


def pattern_matches(pattern: str, exten: str) -> bool:
    """Asterisk extension matching: literal, or `_` with X Z N [..] . !"""
    if not pattern.startswith("_"):
        return pattern == exten
    regex = ""
    rest = pattern[1:]
    while rest:
        c, rest = rest[0], rest[1:]
        if c == "[":
            inside, _, rest = rest.partition("]")
            regex += f"[{re.escape(inside).replace(chr(92) + '-', '-')}]"
        else:
            regex += {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}.get(c, re.escape(c))
    return re.fullmatch(regex, exten) is not None


def has_exten(context: str, exten: str) -> bool:
    return any(pattern_matches(s.exten, exten) for s in contexts().get(context, []))


def required_contexts() -> set[str]:
    """Contexts ccx names: the switchboard's defaults, its configuration file's documented
    contexts, and the dialplan headers in docs/telephony.md and docs/asterisk.md."""
    sb = SwitchboardConfig()
    names = {sb.holding_context, sb.agent_context}
    doc = (ROOT / "ccx/switchboard.py").read_text()
    names |= set(re.findall(r"_context: (ccx-[a-z-]+)", doc))
    for md in ("docs/telephony.md", "docs/asterisk.md"):
        names |= set(re.findall(r"^\[(ccx-[a-z-]+)\]", (ROOT / md).read_text(), re.M))
    return names


def test_the_parser_reads_asterisk_syntax() -> None:
    c = parse('[t](!)\na = 1 ; comment\n[x](t)\nb => 2\n[x](+)\nc = 3\n#include "more.conf"\n')
    assert [(s.name, s.template, s.append, s.inherits) for s in c.sections] == [
        ("t", True, False, ()),
        ("x", False, False, ("t",)),
        ("x", False, True, ()),
    ]
    assert c.resolved(c.sections[1]) == {"a": "1", "b": "2"} and c.includes == ["more.conf"]
    assert pattern_matches("_X.", "8000") and not pattern_matches("_X.", "s")
    assert pattern_matches("_[0-9A-Za-z+].", "a1") and not pattern_matches("_[0-9A-Za-z+].", "h")
    assert pattern_matches("_a[1-4]", "a3") and not pattern_matches("_a[1-4]", "a5")


def test_every_context_ccx_relies_on_exists_in_the_dialplan() -> None:
    required = required_contexts() | {
        "ccx-inbound",
        "ccx-hold",
        "ccx-agent",
        "ccx-play",
        "ccx-queue",
        "ccx-record",
    }
    assert {"ccx-inbound", "ccx-agent"} <= required_contexts(), "the switchboard's own names are read"
    assert required <= set(contexts()), f"missing: {sorted(required - set(contexts()))}"
    sb = SwitchboardConfig()
    assert has_exten(sb.agent_context, sb.agent_exten), "Originate lands the agent leg there"


def test_mode_one_answers_and_holds_and_the_agent_leg_sets_the_contact() -> None:
    inbound = contexts()["ccx-inbound"]
    assert inbound[0].app == "Answer" and any("CDR(" in s.data for s in inbound)
    assert any(s.app == "Goto" and s.data == "ccx-hold,s,1" for s in inbound)
    hold = contexts()["ccx-hold"]
    assert any(s.app == "MusicOnHold" for s in hold) and any(
        s.app == "Goto" and s.data == "hold" for s in hold
    )
    agent = contexts()["ccx-agent"]
    assert any("${CCX_CONTACT}" in s.data for s in agent), "the contact id from the Originate variables"
    play = [(s.app, s.data) for s in contexts()["ccx-play"] if s.exten == "s"]
    assert [a for a, _ in play] == ["Playback", "UserEvent", "Goto"]
    assert play[0][1] == "${CCX_PROMPT}" and play[1][1].startswith("CcxPromptFinished,")
    assert play[2][1] == "ccx-hold,s,1"


def test_mode_two_queues_in_app_queue_and_records_agent_legs() -> None:
    queue = [s for s in contexts()["ccx-queue"] if s.app == "Queue"]
    assert queue and "b(ccx-record^member^1)" in queue[0].data
    assert (
        has_exten("ccx-record", "member")
        and has_exten("ccx-record", "start")
        and has_exten("ccx-record", "stop")
    )


def test_every_literal_goto_and_gosub_lands_on_an_existing_extension() -> None:
    labels = {(s.context, s.exten, s.label) for s in steps() if s.label}
    for s in steps():
        targets = []
        if s.app in ("Goto", "Gosub"):
            targets.append(s.data)
        elif s.app == "GotoIf":
            targets += [t for t in re.split(r"[:?]", s.data.partition("?")[2]) if t]
        targets += [m.replace("^", ",") for m in re.findall(r"b\(([^()]+)\^1\)", s.data)]
        for target in targets:
            parts = [p for p in re.sub(r"\(.*\)$", "", target).split(",")]
            if any("$" in p for p in parts):
                continue  # computed at run time
            if len(parts) == 1:  # a label in this extension
                assert (s.context, s.exten, parts[0]) in labels, f"{s}: no label {parts[0]}"
            elif len(parts) == 3:
                assert has_exten(parts[0], parts[1]), f"{s}: no {parts[1]} in {parts[0]}"


# ---- PJSIP and app_queue

AGENTS = ("a1", "a2", "a3", "a4")


def test_agents_are_complete_plain_udp_endpoints_dialled_as_the_switchboard_dials_them() -> None:
    pjsip = conf("pjsip.conf")
    endpoints, auths, aors = (pjsip.of_type(k) for k in ("endpoint", "auth", "aor"))
    transports = pjsip.of_type("transport")
    assert [t["protocol"] for t in transports.values()] == ["udp"]
    for agent in AGENTS:
        endpoint = endpoints[agent]
        assert SwitchboardConfig().endpoint_for(agent) == f"PJSIP/{agent}"
        assert endpoint["auth"] in auths and auths[endpoint["auth"]]["username"] == agent
        assert endpoint["aors"] in aors and "webrtc" not in endpoint
        assert endpoint["direct_media"] == "no", "media through Asterisk: recordings and ChanSpy hear it"
        assert endpoint["context"] in contexts()
    assert any(s.name == "ccx-carrier-endpoint" and s.template for s in pjsip.sections)
    carrier = pjsip.resolved(pjsip.named("ccx-carrier-endpoint")[0])
    assert carrier["context"] == SwitchboardConfig().holding_context, "mode 1: the trunk's calls are ccx's"


def test_every_queue_sends_the_member_events_and_has_endpoints_as_members() -> None:
    queues = conf("queues.conf")
    endpoints = conf("pjsip.conf").of_type("endpoint")
    names = [s for s in queues.sections if not s.template and s.name != "general"]
    assert names
    for q in names:
        options = queues.resolved(q)
        assert options["eventwhencalled"] == "yes" and options["eventmemberstatus"] == "yes", q.name
        for member in q.get("member"):
            interface = member.split(",")[0]
            assert interface.startswith("PJSIP/") and interface[6:] in endpoints, member
    globals_ = dict(conf("extensions.conf").named("globals")[0].items)
    wanted = {v for k, v in globals_.items() if k == "CCX_DEFAULT_QUEUE" or k.startswith("CCX_QUEUE_")}
    assert wanted <= {q.name for q in names}


# ---- AMI: least privilege

CLASSES = {
    "system", "call", "log", "verbose", "command", "agent", "user", "config", "dtmf", "reporting",
    "cdr", "dialplan", "originate", "agi", "cc", "aoc", "test", "security", "message", "all",
}  # fmt: skip
"""Asterisk's manager classes (manager.conf.sample, `read`/`write`)."""

EVENT_CLASS = {
    **dict.fromkeys(
        (
            "Newchannel", "Newstate", "Hangup", "DialBegin", "DialEnd", "BridgeEnter", "BridgeLeave",
            "Hold", "Unhold", "MusicOnHoldStart", "MusicOnHoldStop", "BlindTransfer",
            "AttendedTransfer", "MixMonitorStart", "MixMonitorStop", "MixMonitorMute",
            "ConfbridgeJoin", "ConfbridgeLeave",
        ),
        "call",
    ),
    **dict.fromkeys(
        (
            "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentCalled",
            "AgentRingNoAnswer", "AgentConnect", "AgentComplete", "QueueMemberStatus",
            "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberPaused",
        ),
        "agent",
    ),
    "DTMFEnd": "dtmf",
    "VarSet": "dialplan",
    "UserEvent": "user",
}  # fmt: skip
"""The class each AMI event is sent under (its `Privilege:` header; the recordings under
../shared/data/ami show `call,all`, `agent,all`, `user,all` for the ones they contain)."""

ACTION_CLASSES = {
    "Login": set(),
    "Logoff": set(),
    "Ping": set(),
    "Originate": {"originate"},
    "Redirect": {"call"},
    "Setvar": {"call"},
    "Bridge": {"call"},
    "Hangup": {"system", "call"},
    "MixMonitor": {"system"},
    "StopMixMonitor": {"system", "call"},
    "MixMonitorMute": {"system", "call"},
    "CoreShowChannels": {"system", "reporting"},
}
"""The classes an action is registered under (Asterisk's manager.c and app_mixmonitor.c); a
user may run it when it holds any one of them, or always when there is none."""

# Originate of one of these applications needs `system` besides `originate` (manager.c).
SYSTEM_APPS = ("system", "exec", "agi", "mixmonitor", "externalivr", "originate")


def ami_user() -> dict[str, str]:
    sections = conf("manager.conf").named("ccx")
    assert len(sections) == 1, "one AMI user, ccx"
    return dict(sections[0].items)


def classes(value: str) -> set[str]:
    found = {c.strip() for c in value.split(",") if c.strip()}
    assert found <= CLASSES, f"not Asterisk classes: {found - CLASSES}"
    return found


def client_actions() -> set[str]:
    text = (ROOT / "telephony/ami/client.py").read_text()
    return set(re.findall(r'send_(?:action|list)\(\s*"(\w+)"', text))


def dialplan_user_events() -> set[str]:
    return {"UserEvent"} if any(s.app == "UserEvent" for s in steps()) else set()


def test_read_is_exactly_the_classes_of_the_events_ccx_consumes() -> None:
    handled = set(AmiMapper()._handlers) | dialplan_user_events()
    unknown = handled - set(EVENT_CLASS)
    assert not unknown, f"the mapper handles {sorted(unknown)}: add their class to EVENT_CLASS"
    assert classes(ami_user()["read"]) == {EVENT_CLASS[e] for e in handled}


def test_write_is_the_fewest_classes_that_run_every_action_the_client_sends() -> None:
    actions = client_actions()
    assert {"Originate", "Redirect", "Bridge", "Hangup", "MixMonitor", "CoreShowChannels", "Ping"} <= actions
    unknown = actions - set(ACTION_CLASSES)
    assert not unknown, f"the client sends {sorted(unknown)}: add their classes to ACTION_CLASSES"
    write = classes(ami_user()["write"])
    for action in actions:
        needs = ACTION_CLASSES[action]
        assert not needs or needs & write, f"{action} needs one of {sorted(needs)}"
    # nothing beyond: every class granted is the only way to run some action
    for c in write:
        assert any(ACTION_CLASSES[a] and not ACTION_CLASSES[a] & (write - {c}) for a in actions), c
    chanspy = re.search(r'application="(\w+)"', (ROOT / "telephony/ami/client.py").read_text())
    assert chanspy and chanspy.group(1) == "ChanSpy"
    assert not any(word in chanspy.group(1).lower() for word in SYSTEM_APPS), "ChanSpy needs originate only"


def test_ami_listens_on_the_compose_network_and_admits_its_subnet_only() -> None:
    general = dict(conf("manager.conf").named("general")[0].items)
    assert general["enabled"] == "yes" and general["timestampevents"] == "yes"
    user = conf("manager.conf").named("ccx")[0]
    assert user.get("deny") == ["0.0.0.0/0.0.0.0"]
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]
    network, bits = subnet.split("/")
    mask = ".".join(str((0xFFFFFFFF << (32 - int(bits)) >> (24 - 8 * i)) & 0xFF) for i in range(4))
    assert user.get("permit") == [f"{network}/{mask}"]
    published = [p for p in ASTERISK.get("ports", []) if str(p).split(":")[-1].startswith(general["port"])]
    assert not published, "AMI is never published outside the compose network"


# ---- secrets and the compose service

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ASTERISK: dict[str, Any] = COMPOSE["services"]["asterisk"]
SECRET_KEYS = ("secret", "password", "md5_cred")


@pytest.mark.parametrize("name", FILES)
def test_no_secret_is_committed(name: str) -> None:
    for s in conf(name).sections:
        for key, value in s.items:
            assert key not in SECRET_KEYS, f"{name} [{s.name}] {key} = {value!r}: render it in start.sh"


def test_the_secrets_are_rendered_from_the_environment_at_start() -> None:
    start = (CONF / "start.sh").read_text()
    for name in ("manager.conf", "pjsip.conf"):
        assert f"ccx-secrets/{name}" in conf(name).includes
        assert f'"$out/{name}"' in start
    assert "[ccx](+)" in start and "CCX_AMI_SECRET" in start and "CCX_SIP_PASSWORD_" in start
    for var, value in ASTERISK["environment"].items():
        assert value == f"${{{var}:-}}", f"{var}: taken from the environment, never written here"
    agents = re.search(r"CCX_AGENTS:-([a-z0-9 ]+)\}", start)
    assert agents and tuple(agents.group(1).split()) == AGENTS
    assert {f"CCX_SIP_PASSWORD_{a.upper()}" for a in AGENTS} <= set(ASTERISK["environment"])


def test_the_compose_service_mounts_every_file_and_starts_through_start_sh() -> None:
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in ASTERISK["volumes"] if v.startswith("./"))
    for name in FILES:
        assert mounts[f"./infra/asterisk/{name}"] == f"/etc/asterisk/{name}"
    script = mounts["./infra/asterisk/start.sh"]
    assert ASTERISK["entrypoint"] == ["/bin/sh", script]
    assert (
        ASTERISK["image"].startswith("andrius/asterisk:22.") and ASTERISK["healthcheck"]["test"][0] == "CMD"
    )
    assert ASTERISK["profiles"] == ["asterisk"], "started on request: it needs the secrets"
    assert {str(p) for p in Path(CONF).iterdir()} == {str(CONF / n) for n in (*FILES, "start.sh")}
