"""The recordings decider: lifecycle from switch facts, retention per queue, legal holds,
expiry exactly once (also in a replay), deletion on request, invalid input."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.acd import ACD
from processors.decider import Invalid
from processors.recording_catalog import CatalogState, fold, search
from processors.recordings import DAY_MS, RecordingsProcessor
from schemas import switch_actions as act
from schemas import telephony as tel
from schemas.commands import DefineQueue, Tick
from schemas.contact import ContactConnected, ContactQueued
from schemas.envelope import Envelope, Message
from schemas.recording_commands import (
    DefineRetention,
    DeleteRecording,
    PlaceLegalHold,
    RecordingStoredReported,
    ReleaseLegalHold,
)
from schemas.recordings import (
    CallRecordingPaused,
    CallRecordingResumed,
    CallRecordingStarted,
    CallRecordingStopped,
    LegalHoldPlaced,
    RecordingDeleted,
    RecordingExpired,
    RecordingStored,
    RetentionRuleDefined,
)
from schemas.system import CommandRejected

T0 = 1_767_600_000_000


class Run:
    """Feeds bodies through the processor as the runner would; keeps every input and output."""

    def __init__(self) -> None:
        self.p = RecordingsProcessor()
        self.state = self.p.initial_state()
        self.inputs: list[Message[Any]] = []
        self.outputs: list[Message[Any]] = []

    def __call__(self, body: object, at: int = 0, actor: str = "system") -> list[object]:
        msg = Message(
            Envelope(f"m{len(self.inputs)}", "t1", T0 + at, f"c{len(self.inputs)}", actor=actor), body
        )
        self.inputs.append(msg)
        self.state, outs = self.p.process(self.state, msg)
        self.outputs += outs
        return [o.body for o in outs]


def started(call: str = "call1", uid: str = "call1", file: str = "/rec/a.wav") -> tel.RecordingStarted:
    return tel.RecordingStarted(call, f"PJSIP/x-{uid}", uid, file, "MixMonitorStart", 0)


def paused(call: str = "call1", uid: str = "call1") -> tel.RecordingPaused:
    return tel.RecordingPaused(call, f"PJSIP/x-{uid}", uid, "MixMonitorMute", 0)


def resumed(call: str = "call1", uid: str = "call1") -> tel.RecordingResumed:
    return tel.RecordingResumed(call, f"PJSIP/x-{uid}", uid, "MixMonitorMute", 0)


def stopped(call: str = "call1", uid: str = "call1") -> tel.RecordingStopped:
    return tel.RecordingStopped(call, f"PJSIP/x-{uid}", uid, "", "MixMonitorStop", 0)


def hung_up(call: str = "call1", uid: str = "call1") -> tel.CallHungUp:
    return tel.CallHungUp(call, f"PJSIP/x-{uid}", uid, 16, "Normal Clearing", True, "Hangup", 0)


def stored(rid: str = "call1-r1", loc: str = "file:///store/call1-r1.wav") -> RecordingStoredReported:
    return RecordingStoredReported(rid, loc, 1234, "sha256:ab")


def connected(call: str = "call1", queue: str = "sales", agent: str = "a1") -> ContactConnected:
    return ContactConnected(call, queue, agent, 5_000)


def recorded(run: Run, call: str = "call1", queue: str = "sales", at: int = 0) -> str:
    """A stored recording of `call` in `queue` started at `at`; its id."""
    run(connected(call, queue), at)
    run(started(call, call), at)
    run(stopped(call, call), at + 60_000)
    run(stored(f"{call}-r1", f"file:///store/{call}.wav"), at + 61_000)
    return f"{call}-r1"


def test_lifecycle_with_a_card_data_pause_and_the_stored_location() -> None:
    run = Run()
    assert run(ContactQueued("call1", "sales", 0)) == []
    assert run(connected(), 1_000) == []
    assert run(started(), 2_000) == [
        CallRecordingStarted("call1-r1", "call1", "PJSIP/x-call1", "/rec/a.wav", "a1", "sales")
    ]
    assert run(paused(), 10_000) == [CallRecordingPaused("call1-r1", "call1", "manual")]
    assert run(paused(), 11_000) == []  # muted twice: one pause
    assert run(resumed(), 25_000) == [CallRecordingResumed("call1-r1", "call1", 15_000)]
    assert run(paused(), 40_000) == [CallRecordingPaused("call1-r1", "call1", "manual")]
    assert run(stopped(), 62_000) == [
        CallRecordingStopped("call1-r1", "call1", "/rec/a.wav", 60_000, 37_000, ("a1",), "sales")
    ]
    assert run(stored(), 70_000) == [
        RecordingStored("call1-r1", "call1", "file:///store/call1-r1.wav", 1234, "sha256:ab")
    ]
    assert run(stored(), 71_000) == []  # the edge reported twice


def test_a_pause_asked_by_a_switch_action_carries_its_reason_into_the_event_and_the_catalog() -> None:
    run = Run()
    run(started(), 0)
    channel = "PJSIP/x-call1"
    assert run(act.PauseRecording("call1", channel, "card_data"), 5_000) == []  # learnt, no decision
    assert run(paused(), 5_100) == [CallRecordingPaused("call1-r1", "call1", "card_data")]
    assert run(act.ResumeRecording("call1", channel), 20_000) == []
    assert run(resumed(), 20_100) == [CallRecordingResumed("call1-r1", "call1", 15_000)]
    assert run(paused(), 30_000) == [CallRecordingPaused("call1-r1", "call1", "manual")]  # nobody asked
    run(resumed(), 31_000)
    run(act.PauseRecording("call1", "PJSIP/other-1", "card_data"), 32_000)  # another channel
    assert run(paused(), 33_000) == [CallRecordingPaused("call1-r1", "call1", "manual")]
    state = CatalogState()
    for o in run.outputs:
        state = fold(state, o)
    (entry,) = search(state, "t1")
    assert (entry.status, entry.paused_ms, entry.pause_reasons) == ("paused", 16_000, ("card_data", "manual"))
    run(act.PauseRecording("call1", channel, "card_data"), 34_000)
    run(hung_up(), 40_000)  # the hang-up forgets the asked reason with the channel
    assert run.state.tenant("t1").pause_reasons.get(channel) is None


def test_a_recording_started_before_the_agent_learns_queue_and_agents_from_the_switch() -> None:
    run = Run()
    assert run(started("c9", "c9"))[0] == CallRecordingStarted(
        "c9-r1", "c9", "PJSIP/x-c9", "/rec/a.wav", "", ""
    )
    run(tel.QueueCallerJoined("c9", "PJSIP/x-c9", "c9", "support", 1, 1, "QueueCallerJoin", 0), 1_000)
    run(
        tel.QueueMemberConnected(
            "c9", "PJSIP/x-c9", "support", "PJSIP/bob", "bob", "PJSIP/bob-1", 3, 2, "AgentConnect", 0
        ),
        5_000,
    )
    run(
        tel.QueueMemberConnected(
            "c9", "PJSIP/x-c9", "support", "PJSIP/eve", "", "PJSIP/eve-1", 3, 2, "AgentConnect", 0
        ),
        9_000,
    )
    (stop,) = run(stopped("c9", "c9"), 30_000)
    assert isinstance(stop, CallRecordingStopped)
    assert (stop.agent_ids, stop.queue_id, stop.duration_ms) == (("bob", "PJSIP/eve"), "support", 30_000)


def test_the_hang_up_closes_a_running_recording_and_a_late_stop_changes_nothing() -> None:
    run = Run()
    run(started(), 0)
    run(paused(), 1_000)
    (stop,) = run(hung_up(), 4_000)
    assert stop == CallRecordingStopped("call1-r1", "call1", "/rec/a.wav", 4_000, 3_000, (), "")
    assert run(stopped(), 5_000) == []


def test_a_channel_recorded_twice_gets_two_recordings() -> None:
    run = Run()
    run(started(), 0)
    run(stopped(), 1_000)
    assert run(started(), 2_000)[0].recording_id == "call1-r2"  # type: ignore[attr-defined]


def test_retention_per_queue_and_the_wildcard_then_expiry_once() -> None:
    run = Run()
    assert run(DefineRetention("sales", 1)) == [RetentionRuleDefined("sales", 1, 1)]
    assert run(DefineRetention("*", 3)) == [RetentionRuleDefined("*", 3, 1)]
    run(DefineRetention("vip", 0))  # kept forever
    sales, other, vip = (
        recorded(run, "s1", "sales"),
        recorded(run, "o1", "support"),
        recorded(run, "v1", "vip"),
    )
    assert run(Tick(), DAY_MS - 1) == []
    assert run(Tick(), DAY_MS) == [
        RecordingExpired(sales, "s1", "sales", "sales", 1, T0 + DAY_MS),
        RecordingDeleted(sales, "s1", "file:///store/s1.wav", "retention", "retention rule 'sales': 1 days"),
    ]
    assert run(Tick(), DAY_MS + 1_000) == []
    out = run(Tick(), 3 * DAY_MS)
    assert [type(e).__name__ for e in out] == ["RecordingExpired", "RecordingDeleted"]
    assert out[0] == RecordingExpired(other, "o1", "support", "*", 3, T0 + 3 * DAY_MS)
    assert run(Tick(), 400 * DAY_MS) == []
    assert vip in run.state.tenant("t1").recordings


def test_a_legal_hold_blocks_expiry_and_deletion_until_released() -> None:
    run = Run()
    run(DefineRetention("*", 1))
    rid = recorded(run, "c1")
    assert run(PlaceLegalHold("c1", "case-7", "dispute")) == [LegalHoldPlaced("c1", "case-7", "dispute")]
    assert run(Tick(), 5 * DAY_MS) == []
    (rejected,) = run(DeleteRecording(rid, "customer asked"), 5 * DAY_MS)
    assert isinstance(rejected, CommandRejected) and rejected.code == "legal_hold"
    (again,) = run(PlaceLegalHold("c1", "case-7"))
    assert isinstance(again, CommandRejected) and again.code == "hold_already_placed"
    run(ReleaseLegalHold("c1", "case-7"), 6 * DAY_MS)
    assert [type(e).__name__ for e in run(Tick(), 6 * DAY_MS)] == ["RecordingExpired", "RecordingDeleted"]
    (gone,) = run(ReleaseLegalHold("c1", "case-7"))
    assert isinstance(gone, CommandRejected) and gone.code == "hold_not_found"


def test_expiry_fires_exactly_once_also_in_a_replay_of_the_same_log() -> None:
    run = Run()
    run(DefineRetention("*", 1))
    recorded(run, "c1")
    for day in range(1, 5):
        run(Tick(), day * DAY_MS)
        run(Tick(), day * DAY_MS + 1_000)
    expired = [o for o in run.outputs if isinstance(o.body, RecordingExpired)]
    deleted = [o for o in run.outputs if isinstance(o.body, RecordingDeleted)]
    assert len(expired) == len(deleted) == 1
    replay = RecordingsProcessor()
    state, again = replay.initial_state(), list[Message[Any]]()
    for msg in run.inputs:
        state, outs = replay.process(state, msg)
        again += outs
    assert again == run.outputs  # same bodies, same derived ids and envelopes


def test_delete_on_request_names_who_asked_and_refuses_what_cannot_be_deleted() -> None:
    run = Run()
    rid = recorded(run, "c1")
    assert run(DeleteRecording(rid, "GDPR erasure request #12"), 5_000, actor="supervisor:s1") == [
        RecordingDeleted(rid, "c1", "file:///store/c1.wav", "supervisor:s1", "GDPR erasure request #12")
    ]
    codes = []
    run(started("c2", "c2"))
    for rid_ in (rid, "nope", "c2-r1"):
        (r,) = run(DeleteRecording(rid_, "again", "dpo"))
        assert isinstance(r, CommandRejected)
        codes.append(r.code)
    assert codes == ["recording_deleted", "recording_not_found", "recording_in_progress"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (DefineRetention("", 5), "queue_id"),
        (DefineRetention("sales", -1), "keep_days"),
        (DefineRetention("sales", 10**6), "keep_days"),
        (DeleteRecording("", "why"), "recording_id"),
        (DeleteRecording("x-r1", ""), "reason"),
        (PlaceLegalHold("c1", ""), "case_ref"),
        (ReleaseLegalHold("", "k"), "contact_id"),
        (RecordingStoredReported("x-r1", "/no/scheme.wav", 1, "sha256:ab"), "location"),
        (RecordingStoredReported("x-r1", "file:///a.wav", -1, "sha256:ab"), "size_bytes"),
        (RecordingStoredReported("x-r1", "file:///a.wav", 1, ""), "checksum"),
        (tel.RecordingStarted("", "PJSIP/x", "u1", "", "MixMonitorStart", 0), "call_id"),
        (paused("c5", "u5"), "no recording running"),
    ],
)
def test_invalid_input_is_refused_naming_the_field(body: object, field: str) -> None:
    """The runner dead-letters `Invalid` with its reason (tests/integration/test_recordings_api.py)."""
    with pytest.raises(Invalid, match=field):
        Run()(body)


def test_other_inputs_are_ignored_and_the_acd_ignores_recording_commands() -> None:
    run = Run()
    assert run(DefineQueue("sales", "Sales")) == []
    assert run(tel.DtmfReceived("c1", "PJSIP/x", "u", "1", "Received", 80, "DTMFEnd", 0)) == []
    acd = ACD()
    msg = Message(Envelope("m1", "t1", T0, "c1"), DefineRetention("*", 30))
    assert list(acd.decide(acd.initial_state(), msg)) == []


def test_the_catalog_searches_by_contact_agent_and_time() -> None:
    run = Run()
    recorded(run, "c1", at=0)
    run(connected("c2", "sales", "a2"), 10_000)
    run(started("c2", "c2"), 10_000)
    state = CatalogState()
    for o in run.outputs:
        state = fold(state, o)
    assert [e.recording_id for e in search(state, "t1")] == ["c2-r1", "c1-r1"]
    assert [e.recording_id for e in search(state, "t1", agent_id="a1")] == ["c1-r1"]
    assert [e.recording_id for e in search(state, "t1", contact_id="c2")] == ["c2-r1"]
    assert [e.recording_id for e in search(state, "t1", start_ms=T0 + 1, end_ms=T0 + 10_001)] == ["c2-r1"]
    assert search(state, "t1", limit=1)[0].recording_id == "c2-r1"
    assert search(state, "other") == []
    (entry,) = search(state, "t1", contact_id="c1")
    assert (entry.status, entry.location, entry.duration_ms) == ("stored", "file:///store/c1.wav", 60_000)


# -- the property: never deleted before retention, never twice, replay identical

_CALLS = ("k1", "k2", "k3")
_step = st.one_of(
    st.tuples(st.just("start"), st.sampled_from(_CALLS)),
    st.tuples(st.just("pause"), st.sampled_from(_CALLS)),
    st.tuples(st.just("resume"), st.sampled_from(_CALLS)),
    st.tuples(st.just("stop"), st.sampled_from(_CALLS)),
    st.tuples(st.just("hangup"), st.sampled_from(_CALLS)),
    st.tuples(
        st.just("connect"),
        st.sampled_from(_CALLS),
        st.sampled_from(("q1", "q2", "")),
        st.sampled_from(("a1", "a2")),
    ),
    st.tuples(st.just("store"), st.sampled_from(_CALLS), st.integers(1, 2)),
    st.tuples(st.just("rule"), st.sampled_from(("q1", "q2", "*")), st.integers(0, 3)),
    st.tuples(st.just("hold"), st.sampled_from(_CALLS)),
    st.tuples(st.just("release"), st.sampled_from(_CALLS)),
    st.tuples(st.just("delete"), st.sampled_from(_CALLS), st.integers(1, 2)),
    st.tuples(
        st.just("tick"),
    ),
)


def _body(step: tuple[Any, ...]) -> object:
    match step:
        case ("start", c):
            return started(c, c)
        case ("pause", c):
            return paused(c, c)
        case ("resume", c):
            return resumed(c, c)
        case ("stop", c):
            return stopped(c, c)
        case ("hangup", c):
            return tel.CallHungUp(c, f"PJSIP/x-{c}", c, 16, "", False, "Hangup", 0)
        case ("connect", c, q, a):
            return connected(c, q, a)
        case ("store", c, n):
            return stored(f"{c}-r{n}", f"file:///s/{c}-{n}.wav")
        case ("rule", q, days):
            return DefineRetention(q, days)
        case ("hold", c):
            return PlaceLegalHold(c, "case")
        case ("release", c):
            return ReleaseLegalHold(c, "case")
        case ("delete", c, n):
            return DeleteRecording(f"{c}-r{n}", "asked")
    return Tick()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_step, st.integers(0, 2 * DAY_MS)), max_size=40))
def test_no_recording_expires_early_or_is_deleted_twice_and_replay_is_identical(
    steps: list[tuple[tuple[Any, ...], int]],
) -> None:
    run = Run()
    now = 0
    for step, gap in steps:
        now += gap
        with contextlib.suppress(Invalid):  # the runner dead-letters it
            run(_body(step), now)
    started_at: dict[str, int] = {}
    deleted: list[str] = []
    for o in run.outputs:
        match o.body:
            case CallRecordingStarted(recording_id=rid):
                started_at[rid] = o.envelope.occurred_at
            case RecordingExpired(recording_id=rid, keep_days=days, due_at=due):
                assert days > 0 and due == started_at[rid] + days * DAY_MS <= o.envelope.occurred_at
            case RecordingDeleted(recording_id=rid):
                deleted.append(rid)
    assert len(deleted) == len(set(deleted))
    replay = RecordingsProcessor()
    state, again = replay.initial_state(), list[Message[Any]]()
    for msg in run.inputs:
        try:
            state, outs = replay.process(state, msg)
        except Invalid:
            continue
        again += outs
    assert again == run.outputs
