"""`ccx ivr validate` and `ccx ivr run` on the shipped example flows (docs/examples/ivr/)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ccx.cli import main

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "docs/examples/ivr/main.yaml"
SURVEY = ROOT / "docs/examples/ivr/survey.yaml"


def ccx(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_validate_the_examples() -> None:
    code, out = ccx("ivr", "validate", str(MAIN), str(SURVEY))
    assert code == 0, out
    assert out.splitlines() == [
        f"{MAIN}: OK (flow 'bank-main' version 3, 22 nodes)",
        f"{SURVEY}: OK (flow 'post-call-survey' version 1, 4 nodes)",
    ]


def test_validate_prints_every_problem_with_its_line_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MAIN.read_text()
        .replace("      4: callback\n", "      4: call_me_back\n")
        .replace("    retries: 1\n    fallback: german", "    retries: -1\n    fallback: german")
    )
    code, out = ccx("ivr", "validate", str(SURVEY), str(bad))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith("survey.yaml: OK (flow 'post-call-survey' version 1, 4 nodes)")
    assert lines[1:] == [
        f"{bad}:72: nodes.language.retries: must be >= 0, not -1",
        f"{bad}:94: nodes.main_menu.options.4: unknown node 'call_me_back'; nodes are "
        + "opening_hours, after_hours, welcome, identify, vip_check, vip_greeting, private_banking, "
        "language, german, english, main_menu, repeat_menu, cards, card_number, block_card, card_blocked, "
        "card_emergency, card_service, accounts, loans, callback, goodbye",
    ]


def test_run_blocks_a_card_without_writing_its_number() -> None:
    card = "4111111111111111"
    code, out = ccx(
        "ivr", "run", str(MAIN), "--digits", f"2,1,1,{card}", "--lookup", '{"reference": "BLK-1"}', "--json"
    )
    assert code == 0, out
    run = json.loads(out)
    assert run["path"] == [
        "opening_hours",
        "welcome",
        "identify",
        "vip_check",
        "language",
        "english",
        "main_menu",
        "cards",
        "card_number",
        "block_card",
        "card_blocked",
        "goodbye",
    ]
    assert run["result"] == "completed"
    events = [o for o in run["outputs"] if o["kind"] == "event"]
    assert card not in json.dumps(events)
    (lookup,) = [o for o in run["outputs"] if o["type"] == "StartLookup" and "cards" in o["url"]]
    assert card in lookup["url"]  # only the effect for the edge carries it
    said = [o["text"] for o in run["outputs"] if o["type"] == "PlayPrompt"]
    assert "Your card is blocked. Your reference is BLK-1. A new card is on its way." in said


def test_run_a_vip_goes_to_private_banking_and_after_hours_to_voicemail() -> None:
    vip = '{"customer": {"vip": true, "first_name": "Ada"}}'
    code, out = ccx("ivr", "run", str(MAIN), "--lookup", vip, "--json")
    assert code == 0, out
    run = json.loads(out)
    (route,) = [o for o in run["outputs"] if o["type"] == "RouteContact"]
    assert (route["queue_id"], route["priority"], route["skills"]) == (
        "private_banking",
        10,
        [{"skill": "vip", "level": 1}],
    )
    code, out = ccx("ivr", "run", str(MAIN), "--at", "2026-01-05T19:30:00Z")
    assert code == 0, out
    assert out.splitlines()[:2] == ["path: opening_hours > after_hours", "result: voicemail"]


def test_run_the_survey_and_a_caller_who_never_presses_anything() -> None:
    code, out = ccx("ivr", "run", str(SURVEY), "--digits", "5,9,4", "--json")
    assert code == 0, out
    answers = [
        (o["question"], o["score"]) for o in json.loads(out)["outputs"] if o["type"] == "SurveyAnswered"
    ]
    assert answers == [("resolved", 5), ("satisfaction", 4)]
    code, out = ccx("ivr", "run", str(MAIN))
    assert code == 0, out
    assert out.splitlines()[:2] == [
        "path: opening_hours > welcome > identify > language > german > main_menu > accounts",
        "result: routed",
    ]


def test_run_rejects_a_bad_script_and_a_bad_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ivr", "run", str(MAIN), "--digits", "1,zz"])
    assert result.exit_code == 2 and "'zz': use DTMF digits" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\nstart: a\nnodes: {a: {type: nope}}\n")
    result = CliRunner().invoke(main, ["ivr", "run", str(bad)])
    assert result.exit_code == 1 and f"{bad}:4: nodes.a.type: unknown node type 'nope'" in result.output
