"""Notifications addressed from the customer's profile: the tickets decider learns how to
reach each customer from `cc.customer-events` (phones, emails, language, merges) and fills
`CustomerNotificationRequested.to` from it when `CreateTicket` names no address; a customer
without such an address is refused with a reason, never notified at an empty address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.decider import Invalid
from processors.pmap import PMap
from processors.ticket_customers import Reach, address, learn, reach
from processors.tickets import Tickets, tickets_processor
from schemas.customers import CustomerDefined, CustomerErased, CustomersMerged, CustomerUpdated
from schemas.envelope import Envelope, Message
from schemas.personal import ERASED
from schemas.system import CommandRejected
from schemas.ticket_commands import AssignTicket, CreateTicket, ResolveTicket, StartTicket, WaitOnCustomer
from schemas.tickets import CustomerNotificationRequested, TicketCreated
from streams import topics
from streams.embedded import EmbeddedLog
from streams.runner import Runner
from streams.serde import Serde
from streams.tail import read_all
from tests.unit.test_tickets import T0, Run

ANN = CustomerDefined(
    "cu1", ("Ann",), ("+4930123456", "+4917000000"), ("ann@example.com",), False, "de", "", (), 1
)


def defined(
    customer_id: str, phones: tuple[str, ...] = (), emails: tuple[str, ...] = (), language: str = ""
) -> CustomerDefined:
    return CustomerDefined(customer_id, ("X",), phones, emails, False, language, "", (), 1)


def ticket(tid: str = "k1", customer: str = "cu1", via: str = "sms", to: str = "") -> CreateTicket:
    return CreateTicket(tid, "Router down", "", "network", "P2", "tech", customer, "c9", via, to)


def notes(outs: list[object]) -> list[CustomerNotificationRequested]:
    return [o for o in outs if isinstance(o, CustomerNotificationRequested)]


def test_sms_goes_to_the_first_phone_of_the_profile_in_the_customers_language() -> None:
    run = Run()
    assert run(ANN) == []  # learned, nothing decided
    outs = run(ticket())
    assert isinstance(outs[0], TicketCreated)
    assert notes(outs) == [
        CustomerNotificationRequested("k1", "sms", "ticket_created", "+4930123456", "de", True)
    ]


def test_email_goes_to_the_first_email() -> None:
    run = Run()
    run(ANN)
    assert notes(run(ticket(via="email"))) == [
        CustomerNotificationRequested("k1", "email", "ticket_created", "ann@example.com", "de", True)
    ]


def test_a_customer_without_such_an_address_is_refused_naming_what_is_missing() -> None:
    run = Run()
    run(defined("cu2", phones=("+4930999999",)))
    (out,) = run(ticket(customer="cu2", via="email"))
    assert isinstance(out, CommandRejected) and out.code == "no_customer_address"
    assert "'cu2'" in out.reason and "no email address" in out.reason
    assert run.state.tenant("t1").tickets.get("k1") is None  # nothing was created
    (out,) = run(ticket(customer="cu9"))
    assert isinstance(out, CommandRejected) and out.code == "no_customer_address"
    assert "'cu9'" in out.reason and "no profile" in out.reason


def test_without_customer_nor_address_the_command_is_invalid() -> None:
    run = Run()
    with pytest.raises(
        Invalid, match="notify_to must be given for notify_via sms when there is no customer_id"
    ):
        run(ticket(customer=""))


def test_an_explicit_address_wins_over_the_profile_and_still_gets_the_language() -> None:
    run = Run()
    run(ANN)
    assert notes(run(ticket(to="+4930555555"))) == [
        CustomerNotificationRequested("k1", "sms", "ticket_created", "+4930555555", "de", False)
    ]


def test_later_notifications_follow_a_changed_profile_and_keep_the_last_address_when_it_is_gone() -> None:
    run = Run()
    run(ANN)
    run(ticket(via="email"))
    run(AssignTicket("k1", "a1"))
    run(StartTicket("k1"))
    run(
        CustomerUpdated(
            "cu1", ("emails",), ("Ann",), ANN.phones, ("ann@new.example",), False, "fr", "", (), 2
        )
    )
    assert notes(run(WaitOnCustomer("k1", "model?"))) == [
        CustomerNotificationRequested(
            "k1", "email", "ticket_waiting_on_customer", "ann@new.example", "fr", True
        )
    ]
    run(CustomerUpdated("cu1", ("emails",), ("Ann",), ANN.phones, (), False, "fr", "", (), 3))
    assert notes(run(ResolveTicket("k1", "fixed"))) == [
        CustomerNotificationRequested("k1", "email", "ticket_resolved", "ann@new.example", "fr", True)
    ]


def test_a_merged_duplicate_is_reached_at_its_survivor() -> None:
    run = Run()
    run(defined("dup", emails=("old@example.com",)))
    run(
        CustomersMerged(
            "cu1",
            "dup",
            "same person",
            ("Ann",),
            (),
            ("ann@example.com", "old@example.com"),
            False,
            "de",
            "",
            (),
            2,
        )
    )
    assert notes(run(ticket(customer="dup", via="email")))[0].to == "ann@example.com"


def test_replay_decides_the_same_and_the_events_rebuild_the_tickets() -> None:
    run = Run()
    for body in (ANN, ticket(), AssignTicket("k1", "a1"), StartTicket("k1"), ResolveTicket("k1", "ok")):
        run(body)
    again = Run()
    for msg in run.inputs:
        again.state, outs = again.p.process(again.state, msg)
        again.outputs += outs
    assert again.outputs == run.outputs and again.state == run.state
    decider, state = Tickets(), Tickets().initial_state()
    for out in run.outputs:
        state = decider.evolve(state, out)
    assert state.tenant("t1").tickets == run.state.tenant("t1").tickets
    assert run.state.tenant("t1").tickets["k1"].notify_profile is True


phones = st.lists(st.sampled_from(["+4930123456", "+4930222222"]), max_size=2, unique=True).map(tuple)
emails = st.lists(st.sampled_from(["a@example.com", "b@example.com"]), max_size=2, unique=True).map(tuple)


@given(phones=phones, emails=emails, via=st.sampled_from(["sms", "email"]), known=st.booleans())
def test_a_profile_notification_is_sent_to_the_first_address_or_refused(
    phones: tuple[str, ...], emails: tuple[str, ...], via: str, known: bool
) -> None:
    run = Run()
    if known:
        run(defined("cu1", phones, emails))
    outs = run(ticket(via=via))
    wanted = (phones if via == "sms" else emails) if known else ()
    if wanted:
        assert notes(outs)[0].to == wanted[0] and notes(outs)[0].from_profile
    else:
        assert len(outs) == 1 and isinstance(outs[0], CommandRejected)
        assert outs[0].code == "no_customer_address"
    assert all(n.to for n in notes(outs))


def test_reach_follows_merges_and_ignores_other_events() -> None:
    m: PMap[Reach] = learn(PMap(), ANN)
    assert learn(m, TicketCreated("k", "", "", "", "P1", "", "", "", 0, 0)) is m
    assert address(m, "cu1", "sms") == "+4930123456" and address(m, "cu1", "fax") == ""
    assert reach(m, "") is None and address(m, "nobody", "sms") == ""


def test_the_runner_reads_customer_events_and_posts_nothing_but_addressed_notifications(
    tmp_path: Path,
) -> None:
    log = EmbeddedLog(tmp_path / "log.sqlite")
    log.ensure_topics(topics.ALL)
    serde = Serde(log)  # type: ignore[arg-type]

    def append(*bodies: Any) -> None:
        log.append([serde.out(Message(Envelope(f"m{id(b)}", "t1", T0, "x"), b)) for b in bodies])

    try:
        append(ANN)
        with Runner(tickets_processor(), log, serde) as runner:
            runner.run_until_idle()
        append(ticket(via="email"))
        with Runner(tickets_processor(), log, serde) as runner:
            runner.run_until_idle()
        found = [m.body for _r, m in read_all(log, serde, [topics.TICKET_EVENTS.name])]
    finally:
        log.close()
    assert notes(found) == [
        CustomerNotificationRequested("k1", "email", "ticket_created", "ann@example.com", "de", True)
    ]


def test_an_erased_customer_is_notified_no_more_and_their_tickets_forget_title_and_address() -> None:
    run = Run()
    run(ANN)
    run(ticket("k1", via="email"))
    run(ticket("k2", to="+4930555555"))
    for tid in ("k1", "k2"):
        run(AssignTicket(tid, "a1"))
        run(StartTicket(tid))
    run(CustomerErased("cu1", "gdpr request", ("key-1",)))
    tickets = run.state.tenant("t1").tickets
    assert {tickets[t].title for t in ("k1", "k2")} == {ERASED} and tickets["k2"].notify_to == ""
    assert notes(run(ResolveTicket("k1", "ok"))) == [] and notes(run(ResolveTicket("k2", "ok"))) == []
    (out,) = run(ticket("k3"))
    assert isinstance(out, CommandRejected) and out.code == "no_customer_address" and "erased" in out.reason
