"""Trunk and port monitoring (`processors.trunk_stats`): channels per trunk, peaks, IVR ports.

Real facts come from public Asterisk recordings run through the AMI adapter, as `ccx ami
replay` does: `cacofonisk/mobile/simple_mobile.json` (an inbound call on a SIP trunk
forwarded through two Local channel pairs to a mobile number on the same trunk; from
github.com/VoIPGRID/cacofonisk, MIT licence, ../shared/data/ami/cacofonisk/LICENSE.cacofonisk.txt)
and `goami2/call_dial_answer_hangup.ami` (one call dialled, answered and hung up; from
github.com/staskobzar/goami2, MIT licence, ../shared/data/ami/goami2/LICENSE.goami2.txt).
The rest are synthetic facts.
"""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import pytest

from processors.trunk_stats import TrunkState, TrunkStats, channels_for, erlang_b, trunk_view
from schemas import telephony as t
from schemas.envelope import Envelope, Message
from schemas.ivr import IvrEnded, IvrStarted
from schemas.system import DeadLetter
from telephony.ami.adapter import AmiAdapter
from telephony.ami.frames import Frame, read_recording

AMI = Path(__file__).resolve().parents[3] / "shared/data/ami"
DAY = 86_400_000
T0 = 1_699_920_000_000  # 2023-11-14 00:00 UTC
_ids = count()


def msg(body: object, at: int = T0, tenant: str = "t1") -> Message[Any]:
    return Message(Envelope(f"e{next(_ids)}", tenant, at, "c"), body)


def fold(messages: list[Message[Any]], state: TrunkState | None = None) -> TrunkState:
    proc = TrunkStats()
    state = state or proc.initial_state()
    for m in messages:
        state, out = proc.process(state, m)
        assert out == ()
    return state


def replay(rel: str, tenant: str = "acme") -> list[Message[Any]]:
    _, items = read_recording((AMI / rel).read_bytes())
    adapter = AmiAdapter(tenant)
    out: list[Message[Any]] = []
    for item in items:
        if isinstance(item, Frame):
            out += adapter.feed_event(item.headers)
    return [m for m in out if not isinstance(m.body, DeadLetter)]


def by_trunk(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["trunk"]: row for row in view["trunks"]}


def started(uid: str, channel: str) -> t.CallStarted:
    return t.CallStarted(uid, channel, uid, "100", "", "200", "ccx-inbound", "200", "", "Newchannel", 0)


def answered(uid: str, channel: str) -> t.ChannelAnswered:
    return t.ChannelAnswered(uid, channel, uid, "Newstate", 0)


def hungup(uid: str, channel: str) -> t.CallHungUp:
    return t.CallHungUp(uid, channel, uid, 16, "Normal Clearing", True, "Hangup", 0)


# ---- real recordings


def test_a_recorded_call_forwarded_to_a_mobile_peaks_at_two_trunk_channels_and_ends_at_zero() -> None:
    messages = replay("cacofonisk/mobile/simple_mobile.json")
    trunk = "SIP/voipgrid-siproute-docker"
    answer = next(i for i, m in enumerate(messages) if isinstance(m.body, t.ChannelAnswered))
    during = by_trunk(trunk_view(fold(messages[: answer + 1]), "acme"))
    assert during[trunk]["in_use"] == 2 and during[trunk]["up"] == 1  # caller ringing on, mobile answered
    view = trunk_view(fold(messages), "acme", {trunk: 30})
    rows = by_trunk(view)
    assert view["channels_in_use"] == 0
    assert rows[trunk] | {"peak_at": 0} == {
        "trunk": trunk,
        "in_use": 0,
        "up": 0,
        "peak_today": 2,
        "peak_at": 0,
        "capacity": 30,
        "free": 30,
        "utilization": 0.0,
        "blocking_now": 0.0,
        "blocking_at_peak": 0.0,
        "channels_for_peak": 7,  # 2 Erlangs at P.01
        "hint": "ok",
    }
    # each Local channel pair is two channels of one "trunk" (Local/exten@context)
    assert rows["Local/ID1@osvpi_route_fixeddestination"]["peak_today"] == 2
    assert rows["Local/+31260010001@world_out"]["peak_today"] == 2


def test_a_recorded_dial_answer_hangup_counts_both_legs_on_their_trunks() -> None:
    messages = replay("goami2/call_dial_answer_hangup.ami")
    bridged = next(i for i, m in enumerate(messages) if isinstance(m.body, t.CallBridged))
    rows = by_trunk(trunk_view(fold(messages[: bridged + 1]), "acme"))
    assert {k: (r["in_use"], r["up"]) for k, r in rows.items()} == {
        "SIP/9170-12": (1, 1),
        "SIP/okon.ferry.sip.com": (1, 1),
    }
    end = trunk_view(fold(messages), "acme")
    assert end["channels_in_use"] == 0
    assert {r["trunk"]: r["peak_today"] for r in end["trunks"]} == {
        "SIP/9170-12": 1,
        "SIP/okon.ferry.sip.com": 1,
    }
    assert trunk_view(fold(messages), "other")["trunks"] == []  # per tenant


# ---- synthetic facts


def test_counts_go_up_and_down_and_the_peak_is_kept() -> None:
    ch = [f"PJSIP/carrier-0000000{i}" for i in range(3)]
    state = fold([msg(started(f"u{i}", c), T0 + i) for i, c in enumerate(ch)])
    state = fold([msg(answered("u0", ch[0]), T0 + 5), msg(hungup("u1", ch[1]), T0 + 6)], state)
    row = by_trunk(trunk_view(state, "t1"))["PJSIP/carrier"]
    assert (row["in_use"], row["up"], row["peak_today"], row["peak_at"]) == (2, 1, 3, T0 + 2)
    state = fold([msg(hungup("u0", ch[0]), T0 + 7), msg(hungup("u2", ch[2]), T0 + 8)], state)
    row = by_trunk(trunk_view(state, "t1"))["PJSIP/carrier"]
    assert (row["in_use"], row["up"], row["peak_today"]) == (0, 0, 3)


def test_duplicate_hangups_and_unknown_channels_never_make_a_count_negative() -> None:
    c = "PJSIP/carrier-0000000a"
    state = fold(
        [
            msg(hungup("ghost", "PJSIP/carrier-0000000f")),  # never seen
            msg(answered("u1", c)),  # learned late: registers the channel, up
            msg(answered("u1", c)),  # again: nothing
            msg(hungup("u1", c)),
            msg(hungup("u1", c)),  # a second hang-up of the same channel
            msg(t.CallTransferred("u1", "blind", c, "", "200@x", "", "", "Success", "BlindTransfer", 0)),
        ]
    )
    row = by_trunk(trunk_view(state, "t1"))["PJSIP/carrier"]
    assert (row["in_use"], row["up"], row["peak_today"]) == (0, 0, 1)


def test_a_dial_occupies_its_destination_channel_until_it_hangs_up() -> None:
    dial = t.DialStarted(
        "u1", "PJSIP/a1-00000001", "PJSIP/carrier-00000002", "u2", "carrier/555", "DialBegin", 0
    )
    state = fold([msg(dial), msg(t.ChannelRinging("u1", "PJSIP/carrier-00000002", "u2", "Newstate", 0))])
    assert by_trunk(trunk_view(state, "t1"))["PJSIP/carrier"]["in_use"] == 1
    state = fold([msg(hungup("u2", "PJSIP/carrier-00000002"))], state)
    assert by_trunk(trunk_view(state, "t1"))["PJSIP/carrier"]["in_use"] == 0


def test_a_failed_switch_action_is_no_channel() -> None:
    failed = t.SwitchActionFailed(
        "a1", "Originate", "k1", "PJSIP/a1", "u9", "ActionFailed", "no such endpoint"
    )
    assert trunk_view(fold([msg(failed)]), "t1")["trunks"] == []


def test_peaks_restart_from_the_current_use_on_a_new_day() -> None:
    c = [f"PJSIP/carrier-0000000{i}" for i in range(3)]
    state = fold([msg(started(f"u{i}", ch), T0 + 10 + i) for i, ch in enumerate(c)])
    state = fold([msg(hungup("u0", c[0]), T0 + 20), msg(hungup("u1", c[1]), T0 + DAY + 1)], state)
    view = trunk_view(state, "t1")
    row = by_trunk(view)["PJSIP/carrier"]
    assert view["day_start"] == T0 + DAY
    assert (row["in_use"], row["peak_today"], row["peak_at"]) == (1, 2, T0 + DAY + 1)


def test_ivr_ports_busy_per_flow_with_todays_peak() -> None:
    state = fold(
        [
            msg(IvrStarted("k1", "main", 1)),
            msg(IvrStarted("k2", "main", 1)),
            msg(IvrStarted("k2", "main", 1)),  # duplicate: counted once
            msg(IvrStarted("k3", "survey", 1)),
            msg(IvrEnded("k1", "main", "routed", "route")),
            msg(IvrEnded("k9", "main", "routed", "route")),  # unknown contact
        ]
    )
    ivr = trunk_view(state, "t1")["ivr"]
    assert ivr == {
        "ports_busy": 2,
        "peak_today": 3,
        "peak_at": T0,
        "by_flow": [{"flow_id": "main", "busy": 1}, {"flow_id": "survey", "busy": 1}],
    }


def test_the_erlang_b_hint_against_a_configured_capacity() -> None:
    ch = [f"PJSIP/carrier-{i:08x}" for i in range(4)]
    state = fold([msg(started(f"u{i}", c)) for i, c in enumerate(ch)])
    rows = by_trunk(trunk_view(state, "t1", {"PJSIP/carrier": 4, "PJSIP/backup": 10}))
    full = rows["PJSIP/carrier"]
    assert (full["free"], full["utilization"], full["hint"]) == (0, 1.0, "full")
    assert full["blocking_now"] == pytest.approx(erlang_b(4, 4), abs=1e-4) and full["channels_for_peak"] == 10
    assert rows["PJSIP/backup"] | {"peak_at": 0} == {
        "trunk": "PJSIP/backup",
        "in_use": 0,
        "up": 0,
        "peak_today": 0,
        "peak_at": 0,
        "capacity": 10,
        "free": 10,
        "utilization": 0.0,
        "blocking_now": 0.0,
        "blocking_at_peak": 0.0,
        "channels_for_peak": 0,
        "hint": "ok",
    }
    state = fold([msg(hungup("u3", ch[3]))], state)
    assert by_trunk(trunk_view(state, "t1", {"PJSIP/carrier": 5}))["PJSIP/carrier"]["hint"] == "tight"


@pytest.mark.parametrize(
    ("traffic", "channels", "blocking"),
    [(1.0, 1, 0.5), (2.0, 2, 0.4), (10.0, 10, 0.2146), (5.0, 0, 1.0), (0.0, 3, 0.0)],
)
def test_erlang_b_matches_the_tables(traffic: float, channels: int, blocking: float) -> None:
    assert erlang_b(traffic, channels) == pytest.approx(blocking, abs=1e-4)


def test_channels_for_a_grade_of_service() -> None:
    assert channels_for(10.0, 0.01) == 18  # the P.01 table: 10 Erlangs need 18 circuits
    assert channels_for(0.0) == 0
