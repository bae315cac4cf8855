"""`ccx config apply|show`, `ccx audit contact` and `ccx replay --at` on a real log.

The embedded log is the default; one test applies the example file on the real Kafka
broker too. The example file is `docs/examples/routing.yaml`, shipped for users.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from click.testing import CliRunner

from ccx.bootstrap import open_log
from ccx.cli import main
from ccx.settings import Settings
from streams import topics
from streams.tail import read_all

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs/examples/routing.yaml"


def ccx(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def rows(out: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_apply_the_example_then_again_changes_nothing_and_show_round_trips(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    code, out = ccx("config", "apply", str(EXAMPLE), *d, "--json")
    assert code == 0, out
    first = rows(out)
    assert len(first) == 13 and {r["outcome"] for r in first} == {"accepted"}, out
    assert any(r["detail"] == "queue sales defined (rule version 1, strategy round_robin)" for r in first)
    code, out = ccx("config", "apply", str(EXAMPLE), *d, "--json")
    assert code == 0 and {r["outcome"] for r in rows(out)} == {"unchanged"}, out
    # what `show` prints is a file `apply` takes, and it describes exactly what is in force
    code, shown = ccx("config", "show", *d)
    assert code == 0 and "strategy: round_robin" in shown
    copy = tmp_path / "shown.yaml"
    copy.write_text(shown)
    code, out = ccx("config", "apply", str(copy), *d, "--json")
    assert code == 0 and {r["outcome"] for r in rows(out)} == {"unchanged"}, out


def test_a_changed_queue_gets_a_new_rule_version_and_show_at_gives_the_old_rules(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    assert ccx("config", "apply", str(EXAMPLE), *d)[0] == 0
    settings = Settings.from_env(data_dir=str(tmp_path))
    log, serde = open_log(settings)
    try:
        (first_at,) = {m.envelope.occurred_at for _r, m in read_all(log, serde, [topics.CONFIG_EVENTS.name])}
    finally:
        log.close()
    changed = tmp_path / "changed.yaml"
    changed.write_text(EXAMPLE.read_text().replace("strategy: round_robin", "strategy: linear"))
    code, out = ccx("config", "apply", str(changed), *d, "--json")
    assert code == 0, out
    applied = [r for r in rows(out) if r["outcome"] != "unchanged"]
    assert applied == [
        {
            "command": "DefineQueue sales",
            "outcome": "accepted",
            "detail": "queue sales defined (rule version 2, strategy linear)",
        }
    ]
    assert "strategy: linear" in ccx("config", "show", *d)[1]
    assert "strategy: round_robin" in ccx("config", "show", *d, "--at", str(first_at))[1]


def test_a_file_may_refer_to_what_the_log_already_defines(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    assert ccx("config", "apply", str(EXAMPLE), *d)[0] == 0
    more = tmp_path / "more.yaml"
    more.write_text(
        "tenant: demo\nagents:\n  - id: a09\n    memberships: [{queue: sales, tier: 1, schedule: early}]\n"
        "    skills: {es: 4}\n"
    )
    code, out = ccx("config", "apply", str(more), *d, "--json")
    assert code == 0, out
    assert rows(out) == [
        {"command": "DefineAgent a09", "outcome": "accepted", "detail": "agent a09 defined (queues sales)"}
    ]


def test_a_bad_file_names_every_problem_with_its_line_and_sends_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "queues:\n"
        "  - id: q1\n"
        "    strategy: fastest\n"
        "    overflow:\n"
        "      - {when: closed, action: callback}\n"
        "    colour: blue\n"
        "agents:\n"
        "  - id: a1\n"
        "    queues: [q1, q9]\n"
        "    skills: {klingon: 6}\n"
    )
    code, out = ccx("config", "apply", str(bad), "--data-dir", str(tmp_path))
    assert code == 1
    for expected in (
        "bad.yaml:3: queues[0].strategy: unknown strategy 'fastest'",
        "bad.yaml:5: queues[0].overflow[0].action: a contact refused when 'closed' cannot wait",
        "bad.yaml:6: queues[0].colour: unknown key",
        "bad.yaml:9: agents[0].queues: unknown queue 'q9'",
        "bad.yaml:10: agents[0].skills.klingon: unknown skill 'klingon'",
        "5 problem(s)",
        "nothing was sent",
    ):
        assert expected in out, out
    log, _serde = open_log(Settings.from_env(data_dir=str(tmp_path)))
    try:
        assert log.end_offsets(topics.COMMANDS.name) == [0] * topics.COMMANDS.partitions
    finally:
        log.close()
    bad.write_text("queues: [\n")
    code, out = ccx("config", "apply", str(bad), "--data-dir", str(tmp_path))
    assert code == 1 and "bad.yaml:2: not valid YAML" in out, out


def test_with_an_acd_running_elsewhere_apply_waits_for_it_and_reports_pending(tmp_path: Path) -> None:
    settings = Settings.from_env(data_dir=str(tmp_path))
    log, _serde = open_log(settings)
    running = log.consumer("acd", [topics.COMMANDS.name])  # stands for `ccx up` holding the ACD
    try:
        code, out = ccx(
            "config", "apply", str(EXAMPLE), "--data-dir", str(tmp_path), "--timeout", "0.5", "--json"
        )
        assert code == 1
        assert {r["outcome"] for r in rows(out)} == {"pending"}, out
    finally:
        running.close()
        log.close()
    # once nobody holds the ACD, the next apply first decides the pending commands, then compares
    code, out = ccx("config", "apply", str(EXAMPLE), "--data-dir", str(tmp_path), "--json")
    assert code == 0 and {r["outcome"] for r in rows(out)} == {"unchanged"}, out


def test_audit_contact_and_replay_at_after_a_simulation(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    code, out = ccx("simulate", *d, "--duration", "10m", "--json", "--no-warehouse")
    assert code == 0, out
    # every agent's state at the end agrees with its last AgentStateChanged on the log
    code, out = ccx("replay", *d, "--at", "2099-01-01T00:00:00Z", "--json")
    assert code == 0, out
    view = json.loads(out)
    log, serde = open_log(Settings.from_env(data_dir=str(tmp_path)))
    try:
        last: dict[str, str] = {}
        for _r, m in read_all(log, serde, [topics.AGENT_EVENTS.name]):
            if type(m.body).__name__ == "AgentStateChanged":
                last[m.body.agent_id] = m.body.state
        offered = [
            m.body
            for _r, m in read_all(log, serde, [topics.CONTACT_EVENTS.name])
            if m.type == "ContactOffered"
        ]
    finally:
        log.close()
    (tenant,) = view["tenants"].values()
    assert {a["agent_id"]: a["state"] for a in tenant["agents"]} == last
    assert view["commands_replayed"] > 100
    # a mid-run moment has agents busy, and a contact's audit shows why it went where it went
    code, out = ccx("replay", *d, "--at", "2026-01-05T08:05:00Z")
    assert code == 0 and "handling" in out and "longest_idle" in out, out
    contact = offered[0]
    code, out = ccx("audit", "contact", contact.contact_id, *d)
    assert code == 0, out
    assert "RouteContact(queue_id=" in out and "ContactOffered" in out
    assert f"why: {contact.reason}" in out
    assert "QueueLeg (" in out and "ContactRecord" in out  # its queue leg and CDR close the story
    assert out.index("QueueLeg (") < out.index("ContactRecord")
    code, out = ccx("audit", "contact", "no-such-contact", *d)
    assert code == 1 and "no command or event mentions contact 'no-such-contact'" in out


def test_apply_on_kafka_decides_here_when_no_acd_runs(kafka_broker: str, tmp_path: Path) -> None:
    kafka = ["--backend", "kafka", "--bootstrap", kafka_broker, "--namespace", f"cfg-{uuid.uuid4().hex[:8]}."]
    code, out = ccx("config", "apply", str(EXAMPLE), "--data-dir", str(tmp_path), *kafka, "--json")
    assert code == 0, out
    assert {r["outcome"] for r in rows(out)} == {"accepted"}, out
    code, out = ccx("config", "apply", str(EXAMPLE), "--data-dir", str(tmp_path), *kafka, "--json")
    assert code == 0 and {r["outcome"] for r in rows(out)} == {"unchanged"}, out
