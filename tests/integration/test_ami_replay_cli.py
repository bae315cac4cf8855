"""`ccx ami replay FILE --format jsonl` on real recordings, wire text and JSON, as an
integrator would run it: one JSON object per fact on stdout, bad frames on stderr.

Data: `../shared/data/ami/` (see its README): goami2 fixtures (staskobzar/goami2
`fixtures_test.go`, MIT) and cacofonisk fixtures (VoIPGRID/cacofonisk `tests/fixtures/`,
MIT), read in place, never copied.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ccx.cli import main

ROOT = Path(__file__).resolve().parents[2]
AMI = ROOT.parent / "shared/data/ami"


def replay(*args: str) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(main, ["ami", "replay", *args], catch_exceptions=False)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, lines, result.stderr


def test_a_wire_recording_prints_its_facts_and_reports_its_bad_frames() -> None:
    path = AMI / "goami2/call_dial_answer_hangup.ami"
    code, facts, err = replay(str(path), "--format", "jsonl", "--tenant", "acme")
    assert code == 0
    assert [f["type"] for f in facts][:3] == ["CallStarted", "DialStarted", "ChannelRinging"]
    assert facts[0] | {"event_id": ""} == {
        "type": "CallStarted",
        "tenant": "acme",
        "correlation_id": "1598887681.60",
        "event_id": "",
        "occurred_at": 0,
        "call_id": "1598887681.60",
        "channel": "SIP/9170-12-0000003c",
        "uniqueid": "1598887681.60",
        "ani": "9170",
        "ani_name": "Bud Heller",
        "dnis": "9898",
        "context": "default",
        "exten": "9898",
        "trunk": "SIP/9170-12",
        "source_event": "Newchannel",
        "ami_time": 0,
    }
    assert facts[-1]["type"] == "CallHungUp" and facts[-1]["ends_call"] is True
    assert {f["correlation_id"] for f in facts} == {"1598887681.60"}
    assert f"{path}:577: a second 'Event' header at line 599 (missing blank line before it?)" in err
    assert "2 bad (would be dead-lettered)" in err


def test_a_json_recording_is_detected_and_replayed() -> None:
    code, facts, err = replay(str(AMI / "cacofonisk/queue/queue_a_cancel.json"))
    assert code == 0
    assert {f["tenant"] for f in facts} == {"demo"}
    abandon = [f for f in facts if f["type"] == "QueueCallerAbandoned"]
    assert [(a["queue"], a["hold_s"]) for a in abandon] == [("670100-540100", 11)]
    assert "queue_a_cancel.json (json): 35 messages" in err and "1 duplicates" in err


def test_the_same_file_replays_to_the_same_bytes() -> None:
    path = str(AMI / "cacofonisk/xfer_attended/xfer_abacbc.json")
    first = CliRunner().invoke(main, ["ami", "replay", path]).stdout
    assert first == CliRunner().invoke(main, ["ami", "replay", path]).stdout


def test_garbage_is_reported_and_only_an_unreadable_file_fails(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ami"
    junk.write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00garbage\r\n\r\nEvent: Newchannel\r\nChannel: PJSIP/a-00000001\r\n"
    )
    code, facts, err = replay(str(junk))
    assert code == 0
    assert [f["type"] for f in facts] == []  # the Newchannel has no Uniqueid: reported
    assert f"{junk}:1: not UTF-8 text" in err
    assert "Newchannel without Uniqueid" in err
    done = subprocess.run(
        [sys.executable, "-m", "ccx.cli", "ami", "replay", str(tmp_path / "missing.ami")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 1 and "cannot read" in done.stderr


def test_the_telephony_doc_lists_every_fact_and_its_commands_run() -> None:
    from schemas import telephony

    doc = (ROOT / "docs/telephony.md").read_text()
    for name in telephony.__all__:
        assert f"`{name}`" in doc, name
    commands = [
        [str(ROOT / a) if a.startswith("../") else a for a in line.split()[1:]]
        for line in doc.splitlines()
        if line.startswith("ccx ami replay ")
    ]
    assert len(commands) == 2
    for args in commands:
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0 and result.stdout.count("\n") > 5, result.output
    out = CliRunner().invoke(main, commands[0]).stderr
    summary = [line for line in doc.splitlines() if line.startswith("call_dial_answer_hangup.ami (wire)")]
    assert summary and summary[0] in out
