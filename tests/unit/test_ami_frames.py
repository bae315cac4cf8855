"""The AMI wire parser (`telephony.ami.frames`) on real recordings and on bad input.

Data: `../shared/data/ami/` (see its README): goami2 fixtures (staskobzar/goami2,
`fixtures_test.go`, MIT), panoramisk fixtures (gawel/panoramisk `tests/fixtures/`, MIT) and
cacofonisk fixtures (VoIPGRID/cacofonisk `tests/fixtures/`, MIT). Read in place, never copied.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from telephony.ami.frames import (
    Banner,
    Frame,
    FrameError,
    FrameParser,
    load_json_events,
    parse_bytes,
    read_recording,
    wire,
)

ROOT = Path(__file__).resolve().parents[2]
AMI = ROOT.parent / "shared/data/ami"


def frames(items: list[object]) -> list[Frame]:
    return [i for i in items if isinstance(i, Frame)]


def errors(items: list[object]) -> list[FrameError]:
    return [i for i in items if isinstance(i, FrameError)]


def test_a_crlf_recording_parses_into_its_messages_with_repeated_headers_kept() -> None:
    items = parse_bytes((AMI / "goami2/call_dial_answer_hangup.ami").read_bytes())
    got = frames(items)
    assert got[0].headers == {
        "Event": "DeviceStateChange",
        "Privilege": "call,all",
        "Device": "SIP/9170-12",
        "State": "INUSE",
    }
    newchannel = got[1].headers
    assert newchannel["Event"] == "Newchannel" and newchannel["Linkedid"] == "1598887681.60"
    assert newchannel["AccountCode"] == ""  # "AccountCode: " is an empty value
    assert newchannel["ChanVariable"] == "realm=\nSIPDOMAIN=\nSIPCALLID="
    assert got[1].line == 6
    assert [f.headers["Event"] for f in got][-1] == "Hangup"


def test_a_missing_blank_line_quarantines_the_message_before_it_and_names_the_lines() -> None:
    # goami2's fixture concatenates two messages without the blank line between them
    items = parse_bytes((AMI / "goami2/call_dial_answer_hangup.ami").read_bytes())
    bad = errors(items)
    assert [(e.line, e.reason) for e in bad] == [
        (577, "a second 'Event' header at line 599 (missing blank line before it?)"),
        (945, "a second 'Event' header at line 967 (missing blank line before it?)"),
    ]
    assert bad[0].raw.startswith(b"Event: Newexten\r\n")
    # the message that began without the blank line is kept
    after = items[items.index(bad[0]) + 1]
    assert isinstance(after, Frame) and after.headers["Event"] == "DialEnd" and after.line == 599


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_fragmentation_gives_the_same_messages(seed: int) -> None:
    data = (AMI / "goami2/confbridge_join_talk_kick.ami").read_bytes()
    whole = parse_bytes(data)
    rng = random.Random(seed)
    parser, got, i = FrameParser(), [], 0
    while i < len(data):
        n = rng.randint(1, 9)
        got += parser.feed(data[i : i + n])
        i += n
    got += parser.close()
    assert got == whole
    assert len(frames(whole)) == 23


def test_lf_only_streams_and_the_banner() -> None:
    data = b"Asterisk Call Manager/5.0.1\nEvent: FullyBooted\nStatus: Fully Booted\n\n"
    assert parse_bytes(data) == [
        Banner("5.0.1", 1),
        Frame({"Event": "FullyBooted", "Status": "Fully Booted"}, 2),
    ]


def test_command_output_follows_until_end_command() -> None:
    data = (
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\n"
        b"Name/username             Host\r\n9170/9170  (Unspecified)\r\n\r\n--END COMMAND--\r\n\r\n"
        b"Event: Hangup\r\nChannel: SIP/a-1\r\n\r\n"
    )
    got = parse_bytes(data)
    assert got[0] == Frame(
        {
            "Response": "Follows",
            "Privilege": "Command",
            "ActionID": "7",
            "Output": "Name/username             Host\n9170/9170  (Unspecified)\n",
        },
        1,
    )
    assert got[1] == Frame({"Event": "Hangup", "Channel": "SIP/a-1"}, 9)


def test_a_follows_response_without_output_ends_at_its_blank_line() -> None:
    items = parse_bytes((AMI / "goami2/queuestatus_confbridgelist_actions.ami").read_bytes())
    follows = [f for f in frames(items) if f.headers.get("Response") == "Follows"]
    assert follows and follows[0].headers["ActionID"] == "bef2eb20211b9@okon.ferry.sip.com"
    assert "Output" not in follows[0].headers


def test_capture_junk_is_reported_with_its_line() -> None:
    # panoramisk's capture has "[218 bytes missing in capture file]" glued to a header
    items = parse_bytes((AMI / "panoramisk/agent_loggued_in.yaml").read_bytes())
    reasons = [str(e) for e in errors(items)]
    assert (
        "line 140: not a 'Key: Value' header: '[218 bytes missing in capture file]Event: Newexten'" in reasons
    )
    assert len(frames(items)) == 160


def test_binary_junk_and_overlong_lines_are_errors_and_parsing_goes_on() -> None:
    parser = FrameParser()
    got = parser.feed(b"Event: Newstate\r\nChannel: \xff\xfe\x00junk\r\n\r\n")
    got += parser.feed(b"\x00" * 70_000)
    got += parser.feed(b"\r\n\r\nEvent: Hangup\r\nUniqueid: 1.1\r\n\r\n")
    got += parser.close()
    bad = errors(got)
    assert [e.line for e in bad] == [2, 4]
    assert bad[0].reason.startswith("not UTF-8 text")
    assert bad[1].reason == "line longer than 65536 bytes"
    assert frames(got) == [Frame({"Event": "Hangup", "Uniqueid": "1.1"}, 6)]


def test_a_connection_cut_inside_a_message_is_an_error_but_a_files_last_message_is_not() -> None:
    parser = FrameParser()
    assert parser.feed(b"Event: Hangup\r\nUniqueid: 1.1\r\n") == []
    [cut] = parser.close(eof_ends_message=False)
    assert isinstance(cut, FrameError) and "ended inside this message" in cut.reason
    assert parse_bytes(b"Event: Hangup\r\nUniqueid: 1.1") == [
        Frame({"Event": "Hangup", "Uniqueid": "1.1"}, 1)
    ]


def test_json_recordings_and_format_detection() -> None:
    kind, items = read_recording((AMI / "cacofonisk/queue/queue_simple.json").read_bytes())
    assert kind == "json" and len(frames(items)) == 68 and not errors(items)
    assert frames(items)[2].headers["Event"] == "Newchannel" and frames(items)[2].line == 3
    kind, _ = read_recording((AMI / "goami2/queue_member_pause.ami").read_bytes())
    assert kind == "wire"
    bad = load_json_events('[{"Event": "Hangup"}, 3, {"Event": {"x": 1}}]')
    assert [str(e) for e in errors(bad)] == [
        "line 2: item 2 is not an object",
        "line 3: item 3: field 'Event' is not a scalar",
    ]
    assert next(str(e) for e in load_json_events("[{")).startswith("line 1: not JSON")


def test_wire_round_trips() -> None:
    headers = {"Action": "Originate", "Channel": "PJSIP/a", "Variable": "A=1\nB=2"}
    assert wire(headers) == b"Action: Originate\r\nChannel: PJSIP/a\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"
    assert parse_bytes(wire(headers)) == [Frame(headers, 1)]


MIXED = (
    b"Asterisk Call Manager/5.0.1\r\n"
    b"Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n"
    b"Event: Newchannel\nChannel: PJSIP/a-1\nUniqueid: 1.1\n\n\n"
    b"\x00\xff binary\r\n\r\n"
    b"Response: Follows\r\nActionID: 2\r\nsome output\r\n--END COMMAND--\r\n\r\n"
    b"Event: Hangup\r\nUniqueid: 1.1\r\nCause: 16\r\nCause: 17\r\n\r\n"
    b"Event: Newstate\r\nEvent: Newstate\r\nUniqueid: 1.1\r\n\r\n"
)


def test_junk_does_not_hold_back_the_messages_after_it() -> None:
    parser = FrameParser()
    got = parser.feed(b"\x00\xff junk\r\n\r\nEvent: Hangup\r\nUniqueid: 1.1\r\n\r\n")
    assert [type(i).__name__ for i in got] == ["FrameError", "Frame"]


@pytest.mark.parametrize("seed", range(8))
def test_every_path_through_the_parser_agrees_on_messages_and_lines(seed: int) -> None:
    whole = parse_bytes(MIXED)
    assert [(type(i).__name__, i.line) for i in whole] == [
        ("Banner", 1),
        ("Frame", 2),
        ("Frame", 6),
        ("FrameError", 11),
        ("Frame", 13),
        ("Frame", 18),
        ("FrameError", 23),
        ("Frame", 24),
    ]
    assert whole[5].headers["Cause"] == "16\n17"
    assert whole[4].headers["Output"] == "some output"
    rng = random.Random(seed)
    parser, got, i = FrameParser(), [], 0
    while i < len(MIXED):
        n = rng.randint(1, 40)
        got += parser.feed(MIXED[i : i + n])
        i += n
    assert got + parser.close() == whole
