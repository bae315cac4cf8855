"""CDRs of contacts that the ACD's rules finished: blocked, overflowed, closed, callback."""

from __future__ import annotations

from typing import Any

from given import at, run

from processors.contacts import ContactRecorder
from schemas.cdr import ContactRecord
from schemas.commands import BlockNumber, DefineQueue, DefineSchedule, RequestCallback, RouteContact, Tick
from schemas.envelope import Message
from schemas.routing import OverflowRule, Window

T0 = 1_767_600_000_000  # Monday 2026-01-05 08:00 UTC


def records(events: list[Message[Any]]) -> dict[str, ContactRecord]:
    cdr = ContactRecorder()
    state = cdr.initial_state()
    out: dict[str, ContactRecord] = {}
    for e in events:
        state, emitted = cdr.process(state, e)
        for m in emitted:
            out[m.body.contact_id] = m.body
    assert state.drafts == {} or all(k[1] not in out for k in state.drafts)
    return out


def test_a_blocked_number_gets_a_cdr_with_outcome_blocked() -> None:
    events = run(
        at(T0),
        DefineQueue("q1", "Sales"),
        BlockNumber("+1666", "abuse"),
        RouteContact("c1", "q1", ani="+1666"),
    )
    r = records(events)["c1"]
    assert (r.outcome, r.end_party, r.queue_id, r.ani, r.arrived_at) == (
        "blocked",
        "system",
        "q1",
        "+1666",
        T0,
    )


def test_an_overflowed_contact_is_recorded_in_its_last_queue_with_its_whole_wait() -> None:
    events = run(
        at(T0),
        DefineQueue("q2", "Support"),
        DefineQueue("q1", "Sales", overflow=(OverflowRule("wait", "voicemail", after_s=60),)),
        RouteContact("c1", "q1"),
        at(T0 + 61_000),
        Tick(),
    )
    r = records(events)["c1"]
    assert (r.outcome, r.queue_id, r.queued_at, r.wait_ms) == ("timed_out", "q1", T0, 61_000)


def test_closed_and_callback_contacts_are_recorded() -> None:
    events = run(
        at(T0),
        DefineSchedule("night", "Night", "UTC", (Window(0, 0, 360),)),
        DefineQueue("q1", "Sales", hours="night"),
        DefineQueue("q2", "Support"),
        RouteContact("c1", "q1"),
        RouteContact("c2", "q2", ani="+1555"),
        at(T0 + 5_000),
        RequestCallback("c2"),
    )
    out = records(events)
    assert out["c1"].outcome == "closed"
    assert (out["c2"].outcome, out["c2"].wait_ms) == ("callback", 5_000)
    assert "c2-cb" not in out  # the callback waits on, in c2's place
