"""Customers: validation, duplicates, merges, identification, history and the screen pop."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from given import at, given, run
from hypothesis import given as hgiven
from hypothesis import settings
from hypothesis import strategies as st

from processors.acd import ACD
from processors.bigmap import BigMap
from processors.contacts import ContactRecorder
from processors.customer_directory import (
    CustomerDirectory,
    DirectoryState,
    fold,
    history,
    identify,
    screen_pop,
)
from processors.customers import (
    CustomersDecider,
    CustomerState,
    customers_processor,
    lookup_number,
    normalise_phone,
    resolve,
)
from processors.decider import Invalid
from schemas.avro import encode
from schemas.commands import (
    AcceptOffer,
    CompleteWrapUp,
    DefineAgent,
    DefineQueue,
    HangUpContact,
    LogInAgent,
    RouteContact,
    SetAgentReady,
)
from schemas.customer_commands import CustomerAttribute, DefineCustomer, MergeCustomers, UpdateCustomer
from schemas.customers import CustomerDefined, CustomersMerged, CustomerUpdated
from schemas.envelope import Envelope, Message, derive
from schemas.system import CommandRejected
from schemas.tickets import TicketCreated, TicketStatusChanged

ALICE = DefineCustomer("c1", ("Alice Adler",), ("030 1234567",), ("Alice@Example.COM",), region="DE")
BOB = DefineCustomer(
    "c2", ("Bob Berg",), ("+1 212 555 0100",), ("bob@example.com",), vip=True, language="en-US"
)


def g(*commands: object) -> Any:
    """`given` with the customers decider, after the events `commands` decide (`given`
    decides only ACD commands itself)."""
    _state, out = decide_all(list(commands))
    events = [m.body for m in out if not isinstance(m.body, CommandRejected)]
    return given(*events, decider=CustomersDecider())


def decide_all(commands: list[object], tenant: str = "t1") -> tuple[CustomerState, list[Message[Any]]]:
    """Drive the customers processor as the runner does; every output message."""
    p = customers_processor()
    state = p.initial_state()
    out: list[Message[Any]] = []
    for n, body in enumerate(commands):
        msg = Message(Envelope(f"cmd{n}", tenant, 1_000 * n, f"corr{n}"), body)
        try:
            state, events = p.process(state, msg)
        except Invalid:
            continue
        out.extend(events)
    return state, out


# ---- the decider: validation


def test_a_definition_records_e164_numbers_and_lower_case_emails() -> None:
    g().when(ALICE).then(
        CustomerDefined(
            "c1", ("Alice Adler",), ("+49301234567",), ("alice@example.com",), False, "", "", (), 1
        )
    )


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (DefineCustomer("", ("A",)), "customer_id must not be empty"),
        (DefineCustomer("c9", ()), "names must hold at least one name"),
        (DefineCustomer("c9", ("A", "  ")), "names[1]: must not be empty"),
        (DefineCustomer("c9", ("A",), ("030 1234567",)), "phones[0]: '030 1234567' is not a phone number"),
        (DefineCustomer("c9", ("A",), ("+49 12",)), "phones[0]: '+49 12' is not a valid phone number"),
        (DefineCustomer("c9", ("A",), (), ("a@b.de", "nope")), "emails[1]: 'nope' is not an email address"),
        (DefineCustomer("c9", ("A",), language="german!"), "language: 'german!'"),
        (DefineCustomer("c9", ("A",), region="XX"), "region: 'XX'"),
        (
            DefineCustomer(
                "c9", ("A",), attributes=(CustomerAttribute("x", "1"), CustomerAttribute("x", "2"))
            ),
            "attributes[1].name: 'x' is given twice",
        ),
        (UpdateCustomer("c1", ()), "update_mask must name at least one"),
        (UpdateCustomer("c1", ("names", "colour")), "update_mask[1]: 'colour' is not a profile field"),
        (UpdateCustomer("c7", ("vip",), vip=True), "customer_id: unknown customer 'c7'"),
        (MergeCustomers("c1", "c1"), "duplicate_id must not be the survivor_id"),
        (MergeCustomers("c1", "c7"), "duplicate_id: unknown customer 'c7'"),
    ],
)
def test_invalid_input_names_the_field(command: object, text: str) -> None:
    g(ALICE).when(command).invalid(text)


def test_a_number_another_customer_owns_is_rejected_and_the_processor_says_so() -> None:
    g(ALICE).when(DefineCustomer("c2", ("Al",), ("+49 30 1234567",))).rejected("phone_in_use")
    g(ALICE).when(DefineCustomer("c2", ("Al",), (), ("ALICE@example.com",))).rejected("email_in_use")
    g(ALICE, BOB).when(UpdateCustomer("c2", ("phones",), phones=("+49301234567",))).rejected("phone_in_use")
    _state, out = decide_all([ALICE, DefineCustomer("c2", ("Al",), ("+49301234567",))])
    assert isinstance(out[-1].body, CommandRejected) and out[-1].body.code == "phone_in_use"
    assert "phones[0]: +49301234567 belongs to customer 'c1'" in out[-1].body.reason


def test_redefining_a_customer_keeps_its_own_numbers_and_an_unchanged_profile_decides_nothing() -> None:
    g(ALICE).when(ALICE).then()
    (event,) = g(ALICE).when(DefineCustomer("c1", ("Alice A.",), ("+49301234567",))).events
    assert isinstance(event, CustomerDefined) and event.version == 2 and event.emails == ()
    # the email it gave up is free for someone else now
    g(ALICE, DefineCustomer("c1", ("Alice",), ("+49301234567",))).when(
        DefineCustomer("c2", ("Other",), (), ("alice@example.com",))
    ).then_types("CustomerDefined")


def test_an_update_changes_only_the_masked_fields_and_says_which_changed() -> None:
    (event,) = (
        g(ALICE)
        .when(UpdateCustomer("c1", ("vip", "segment", "language"), vip=True, segment="gold", language=""))
        .events
    )
    assert event == CustomerUpdated(
        "c1",
        ("vip", "segment"),
        ("Alice Adler",),
        ("+49301234567",),
        ("alice@example.com",),
        True,
        "",
        "gold",
        (),
        2,
    )
    g(ALICE).when(UpdateCustomer("c1", ("vip",), vip=False)).then()


# ---- merges


def test_a_merge_moves_numbers_emails_and_attributes_to_the_survivor() -> None:
    dup = DefineCustomer(
        "c3", ("A. Adler",), ("+4915112345678",), ("a.adler@example.com",), True, "de", "retail",
        (CustomerAttribute("contract", "gold"),),
    )  # fmt: skip
    outcome = g(ALICE, dup).when(MergeCustomers("c1", "c3", "same person"))
    assert outcome.events == [
        CustomersMerged(
            "c1", "c3", "same person", ("Alice Adler", "A. Adler"), ("+49301234567", "+4915112345678"),
            ("alice@example.com", "a.adler@example.com"), True, "de", "retail",
            (CustomerAttribute("contract", "gold"),), 2,
        )
    ]  # fmt: skip
    t = outcome.state.tenant("t1")
    assert t.phones["+4915112345678"] == "c1" and t.emails["a.adler@example.com"] == "c1"
    assert resolve(t, "c3").customer_id == "c1" and t.customers["c3"].merged_into == "c1"


def test_a_merged_customer_cannot_be_changed_or_merged_again() -> None:
    history = (ALICE, BOB, MergeCustomers("c1", "c2"))
    g(*history).when(UpdateCustomer("c2", ("vip",), vip=False)).rejected("customer_merged")
    g(*history).when(DefineCustomer("c2", ("B",))).rejected("customer_merged")
    g(*history).when(MergeCustomers("c2", "c1")).rejected("customer_merged")
    # its old number may now be redefined on the survivor without conflict
    g(*history).when(UpdateCustomer("c1", ("phones",), phones=("+12125550100",))).then_types(
        "CustomerUpdated"
    )


def test_merges_chain_to_the_last_survivor() -> None:
    carol = DefineCustomer("c4", ("Carol",), ("+33142685300",))
    state = g(ALICE, BOB, carol, MergeCustomers("c2", "c4"), MergeCustomers("c1", "c2")).state
    t = state.tenant("t1")
    assert resolve(t, "c4").customer_id == "c1"
    assert set(t.customers["c1"].absorbed) == {"c2", "c4"}
    assert t.phones["+33142685300"] == "c1"


# ---- the ACD and the customers decider ignore each other's commands


def test_the_acd_ignores_customer_commands_and_the_customers_decider_acd_commands() -> None:
    acd = ACD()
    for body in (ALICE, UpdateCustomer("c1", ("vip",)), MergeCustomers("c1", "c2")):
        assert acd.decide(acd.initial_state(), Message(Envelope("e", "t1", 0, "c"), body)) == ()
    d = CustomersDecider()
    assert d.decide(d.initial_state(), Message(Envelope("e", "t1", 0, "c"), DefineQueue("q1", "Q"))) == ()


# ---- identification


@pytest.mark.parametrize(
    "ani", ["+49301234567", "+49 30 1234567", "030 1234567", "030/123 45 67", "0049301234567", "49301234567"]
)
def test_a_caller_is_identified_by_ani_in_any_format(ani: str) -> None:
    state = _directory(ALICE, BOB)
    found = identify(state, "t1", ani=ani, region="DE")
    assert found is not None and found.customer_id == "c1"


def test_a_caller_is_identified_by_email_and_unknowns_are_none() -> None:
    state = _directory(ALICE, BOB)
    assert identify(state, "t1", email=" BOB@example.com ").customer_id == "c2"  # type: ignore[union-attr]
    assert identify(state, "t1", ani="+12125550100").customer_id == "c2"  # type: ignore[union-attr]
    assert identify(state, "t1", ani="+44 20 7946 0958") is None
    assert identify(state, "t1", ani="anonymous") is None
    assert identify(state, "t2", ani="+12125550100") is None  # another tenant's directory
    assert lookup_number("anonymous") == "" and lookup_number("") == ""
    with pytest.raises(ValueError, match="give \\+country code or a region"):
        normalise_phone("030 1234567")


def _directory(*commands: object, tenant: str = "t1") -> DirectoryState:
    _state, out = decide_all(list(commands), tenant)
    d = DirectoryState()
    for m in out:
        d = fold(d, m, "DE")
    return d


# ---- history from real ACD events and CDRs


T0 = 1_767_600_000_000
SETUP = (
    at(T0),
    DefineQueue("q1", "Support"),
    DefineAgent("a1", "Ann", ("q1",)),
    LogInAgent("a1"),
    SetAgentReady("a1"),
)


def _call(cid: str, ani: str, start: int, disposition: str) -> tuple[object, ...]:
    return (
        at(start),
        RouteContact(cid, "q1", ani=ani),
        at(start + 2_000),
        AcceptOffer(cid, "a1"),
        at(start + 60_000),
        HangUpContact(cid, "caller"),
        at(start + 70_000),
        CompleteWrapUp(cid, "a1", disposition),
    )


def _acd_events() -> list[Message[Any]]:
    return run(
        *SETUP,
        *_call("k1", "030 1234567", T0 + 1_000, "billing"),
        *_call("k2", "+1 212 555 0100", T0 + 100_000, "sales"),
        *_call("k3", "+4930 1234567", T0 + 200_000, "refund"),
        *_call("k4", "+33 1 42 68 53 00", T0 + 300_000, "other"),  # nobody's number yet
        at(T0 + 400_000),
        RouteContact("k5", "q1", ani="0301234567"),
        at(T0 + 405_000),
        HangUpContact("k5", "caller"),  # abandoned while it rang at the agent
    )


def _cdrs(events: list[Message[Any]]) -> list[Message[Any]]:
    rec = ContactRecorder()
    state, out = rec.initial_state(), []
    for e in events:
        state, records = rec.process(state, e)
        out.extend(records)
    return out


def _with_customers(events: list[Message[Any]], *commands: object) -> list[Message[Any]]:
    _state, customer_events = decide_all(list(commands))
    return [m for m in customer_events if not isinstance(m.body, CommandRejected)] + events


def test_history_is_a_projection_of_real_acd_events_newest_first() -> None:
    events = _with_customers(_acd_events(), ALICE, BOB)
    d = CustomerDirectory(region="DE")
    state = d.initial_state()
    for m in events:
        state, out = d.process(state, m)
        assert out == ()
    contacts = history(state, "t1", "c1")
    assert [c.contact_id for c in contacts] == ["k5", "k3", "k1"]
    k1 = contacts[-1]
    assert (k1.queue_id, k1.agent_id, k1.outcome, k1.disposition) == ("q1", "a1", "completed", "billing")
    assert k1.key == "+49301234567" and k1.customer_id == "c1"
    assert [c.contact_id for c in history(state, "t1", "c2")] == ["k2"]
    assert [c.contact_id for c in history(state, "t1", "c1", last=1)] == ["k5"]


def test_cdrs_fill_the_same_records_in_either_order_and_alone() -> None:
    acd = _with_customers(_acd_events(), ALICE, BOB)
    cdrs = _cdrs(_acd_events())
    assert cdrs, "the CDR builder made records"
    both, cdr_first, only_cdrs = DirectoryState(), DirectoryState(), DirectoryState()
    for m in acd + cdrs:
        both = fold(both, m, "DE")
    for m in [m for m in acd if "Customer" in m.type] + cdrs + [m for m in acd if "Customer" not in m.type]:
        cdr_first = fold(cdr_first, m, "DE")
    for m in [m for m in acd if "Customer" in m.type] + cdrs:
        only_cdrs = fold(only_cdrs, m, "DE")
    ids = [c.contact_id for c in history(both, "t1", "c1")]
    assert ids == [c.contact_id for c in history(cdr_first, "t1", "c1")] == ["k5", "k3", "k1"]
    assert [c.contact_id for c in history(only_cdrs, "t1", "c1")] == ["k5", "k3", "k1"]
    k1 = {c.contact_id: c for c in history(cdr_first, "t1", "c1")}["k1"]
    assert (k1.outcome, k1.disposition, k1.agent_id) == ("answered", "billing", "a1")


def test_contacts_before_the_customer_existed_and_of_merged_duplicates_show_in_the_history() -> None:
    carol = DefineCustomer("c4", ("Carol",), ("+33142685300",))
    state = DirectoryState()
    for m in _with_customers(_acd_events(), ALICE, BOB):
        state = fold(state, m, "DE")
    _s, later = decide_all([ALICE, BOB, carol, MergeCustomers("c2", "c4")])
    for m in later:
        state = fold(state, m, "DE")
    # k4 came from Carol's number before she was defined; Carol is merged into Bob now
    assert [c.contact_id for c in history(state, "t1", "c4")] == ["k4", "k2"]
    assert [c.contact_id for c in history(state, "t1", "c2")] == ["k4", "k2"]


def _ticket(tid: str, customer: str, status: str | None, n: int) -> list[Message[Any]]:
    env = Envelope(f"tk{tid}", "t1", T0 + n, tid)
    created = Message(
        env, TicketCreated(tid, f"title {tid}", "", "billing", "high", "billing", customer, "", 0, 0)
    )
    out = [created]
    if status:
        out.append(derive(created, TicketStatusChanged(tid, "new", status, "done", 0), 0))
    return out


def test_screen_pop_finds_the_profile_the_last_contacts_and_the_open_tickets() -> None:
    state = DirectoryState()
    messages = _with_customers(_acd_events(), ALICE, BOB)
    messages += (
        _ticket("T1", "c1", None, 1) + _ticket("T2", "c1", "resolved", 2) + _ticket("T3", "c2", None, 3)
    )
    for m in messages:
        state = fold(state, m, "DE")
    pop = screen_pop(state, "t1", "030 1234567", region="DE", last=2)
    assert pop["number"] == "+49301234567"
    assert pop["customer"]["customer_id"] == "c1" and pop["customer"]["name"] == "Alice Adler"
    assert [c["contact_id"] for c in pop["contacts"]] == ["k5", "k3"]
    assert [t["ticket_id"] for t in pop["open_tickets"]] == ["T1"]
    unknown = screen_pop(state, "t1", "+33 1 42 68 53 00")
    assert unknown["customer"] is None and [c["contact_id"] for c in unknown["contacts"]] == ["k4"]
    assert unknown["open_tickets"] == []


# ---- properties: one owner per number, merges resolve, replay is exact

NUMBERS = ["+4930123456" + str(i) for i in range(6)]
IDS = [f"c{i}" for i in range(5)]
op = st.one_of(
    st.builds(
        lambda c, ps: DefineCustomer(c, (c.upper(),), tuple(ps)),
        st.sampled_from(IDS),
        st.lists(st.sampled_from(NUMBERS), max_size=3),
    ),
    st.builds(
        lambda c, ps: UpdateCustomer(c, ("phones",), phones=tuple(ps)),
        st.sampled_from(IDS),
        st.lists(st.sampled_from(NUMBERS), max_size=3),
    ),
    st.builds(lambda s, d: MergeCustomers(s, d, "dup"), st.sampled_from(IDS), st.sampled_from(IDS)),
)


@settings(max_examples=150, deadline=None)
@hgiven(st.lists(op, max_size=30))
def test_every_number_resolves_to_at_most_one_live_customer_and_merged_ids_to_the_survivor(
    commands: list[object],
) -> None:
    state, out = decide_all(commands)
    t = state.tenant("t1")
    live = [c for c in t.customers.values() if not c.merged_into]
    for number in NUMBERS:
        owners = [c.customer_id for c in live if number in c.phones]
        assert len(owners) <= 1
        assert t.phones.get(number) == (owners[0] if owners else None)
    for c in t.customers.values():
        survivor = resolve(t, c.customer_id)
        assert survivor is not None and not survivor.merged_into
        if c.merged_into:
            assert c.phones == () and c.customer_id in survivor.absorbed
    merged = [m.body for m in out if isinstance(m.body, CustomersMerged)]
    for m in merged:
        assert resolve(t, m.duplicate_id) == resolve(t, m.survivor_id)
    # replay: the same commands decide byte-identical events and an equal state
    state2, out2 = decide_all(commands)
    assert [encode(m) for m in out] == [encode(m) for m in out2]
    assert pickle.dumps(state) == pickle.dumps(state2)
    # the directory folds the decided events to the same indexes as the decider
    d = DirectoryState()
    for m in out:
        d = fold(d, m)
    assert dict(d.tenant("t1").people.phones) == dict(t.phones)


def test_bigmap_is_persistent_and_pickles() -> None:
    m: BigMap[int] = BigMap()
    m2 = m.set("a", 1).set("b", 2)
    m3 = m2.delete("a")
    assert (len(m), len(m2), len(m3)) == (0, 2, 1)
    assert dict(m2) == {"a": 1, "b": 2} and "a" not in m3 and m3.get("a") is None
    assert m3.delete("zz") is m3 and m2.set("a", 5)["a"] == 5 and len(m2.set("a", 5)) == 2
    assert dict(pickle.loads(pickle.dumps(m2))) == dict(m2)
