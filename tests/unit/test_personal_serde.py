"""Crypto-shredding (docs/adr/0020): personal fields sealed by the serde with their subject's
key, opened again, and read as "[erased]" once the key is deleted; the vault behind it; the
customers decider's and the directory's part of an erasure."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest
from given import given
from hypothesis import HealthCheck
from hypothesis import given as hgiven
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from processors.customer_directory import DirectoryState, fold, screen_pop
from processors.customers import CustomersDecider, apply, erase_subjects
from schemas.catalog import BY_NAME
from schemas.cdr import ContactRecord
from schemas.contact import ContactArrived
from schemas.customer_commands import DefineCustomer, EraseCustomer, MergeCustomers, UpdateCustomer
from schemas.customers import CustomerDefined, CustomerErased
from schemas.envelope import Envelope, Message
from schemas.personal import ERASED, PERSONAL, subject_of
from schemas.samples import sample_message
from schemas.tickets import TicketCreated
from streams.keyvault import KeyVault
from streams.serde import DecodeError, MemorySchemaStore, Serde
from streams.shredding import PREFIX

PHONE = "+49301234567"
ENV = Envelope("e-1", "t1", 1_000, "corr-1")
PROFILE = CustomerDefined("k1", ("Zoë Adler",), (PHONE,), ("zoe@example.org",), False, "de", "", (), 1)


@pytest.fixture
def vault(tmp_path: Path) -> KeyVault:
    v = KeyVault(tmp_path / "keys.sqlite")
    yield v  # type: ignore[misc]
    v.close()


@pytest.fixture
def serde(vault: KeyVault) -> Serde:
    return Serde(MemorySchemaStore(), vault, region="DE")


def _texts(body: object, rule_fields: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for name in rule_fields:
        value = getattr(body, name)
        out += list(value) if isinstance(value, tuple) else [value]
    return out


# ---- the registry


def test_every_marked_field_is_a_string_field_of_a_catalog_type() -> None:
    for type_name, rules in PERSONAL.items():
        fields = {f.name: f.type for f in dataclasses.fields(BY_NAME[type_name].cls)}
        for rule in rules:
            assert rule.by in fields, (type_name, rule.by)
            for name in rule.fields:
                assert fields[name] in ("str", "tuple[str, ...]"), (type_name, name, fields[name])


def test_subjects_name_the_customer_the_number_or_the_address() -> None:
    assert subject_of("customer", "t1", "k1") == "customer:t1:k1"
    assert subject_of("address", "t1", " Zoe@Example.org ") == "email:t1:zoe@example.org"
    assert subject_of("address", "t1", "030 1234567", lambda s: PHONE) == f"phone:t1:{PHONE}"
    assert subject_of("address", "t1", "anonymous", lambda s: "") == "phone:t1:anonymous"
    assert subject_of("customer", "t1", "  ") == ""


# ---- sealing and opening


@pytest.mark.parametrize("type_name", sorted(PERSONAL))
def test_every_personal_type_round_trips_and_never_carries_the_plaintext(
    serde: Serde, type_name: str
) -> None:
    msg = sample_message(BY_NAME[type_name])
    value = serde.encode(msg)
    assert serde.decode(value) == msg
    assert serde.encode(msg) == value  # derived nonces: the same message, the same bytes
    for rule in PERSONAL[type_name]:
        for text in _texts(msg.body, rule.fields):
            if text:
                assert text.encode() not in value, (type_name, text)


def test_national_and_e164_forms_of_a_number_share_one_key(serde: Serde, vault: KeyVault) -> None:
    for i, ani in enumerate((PHONE, "030 1234567", "0049 30 1234567")):
        serde.encode(Message(ENV, ContactArrived(f"c{i}", "voice", ani, "+4930999")))
    assert len(vault.key_ids([f"phone:t1:{PHONE}"])) == 1 and vault.created == 1


def test_erasure_makes_exactly_the_subjects_values_read_as_the_marker(serde: Serde, vault: KeyVault) -> None:
    other = Message(ENV, ContactArrived("c2", "voice", "+12025550123", ""))
    mine = Message(ENV, ContactArrived("c1", "voice", PHONE, ""))
    profile = Message(ENV, PROFILE)
    values = [serde.encode(m) for m in (mine, other, profile)]
    ids = vault.key_ids(["phone:t1:" + PHONE, "customer:t1:k1"])
    assert len(ids) == 2
    assert vault.erase(["phone:t1:" + PHONE, "customer:t1:k1", "customer:t1:k1"]) == ids
    read = [serde.decode(v).body for v in values]
    assert read[0].ani == ERASED
    assert read[1] == other.body
    assert (read[2].names, read[2].phones, read[2].emails) == ((ERASED,), (ERASED,), (ERASED,))
    assert read[2].language == "de"  # not personal: stays


def test_erase_returns_the_deleted_key_ids_and_a_subject_gets_a_new_key_afterwards(vault: KeyVault) -> None:
    first = vault.keys_for(["phone:t1:+1"])["phone:t1:+1"][0]
    assert vault.erase(["phone:t1:+1", "phone:t1:never"]) == (first,)
    assert vault.key(first) is None and vault.erase(["phone:t1:+1"]) == ()
    again = vault.keys_for(["phone:t1:+1"])["phone:t1:+1"][0]
    assert again != first


def test_plaintext_from_before_the_vault_passes_through(serde: Serde) -> None:
    plain = Serde(MemorySchemaStore()).encode(Message(ENV, PROFILE))
    assert serde.decode(plain) == Message(ENV, PROFILE)


def test_without_a_vault_sealed_values_read_as_they_are(serde: Serde) -> None:
    sealed = serde.encode(Message(ENV, PROFILE))
    body = Serde(MemorySchemaStore()).decode(sealed).body
    assert body.names[0].startswith(PREFIX) and body.customer_id == "k1"


def _sealed_ani(serde: Serde, ani: str) -> bytes:
    """A value whose `ani` is `ani` as given (a vault-less serde writes it unchanged)."""
    plain = Serde(MemorySchemaStore())
    assert plain.schema_id("ContactArrived") == serde.schema_id("ContactArrived")
    return plain.encode(Message(ENV, ContactArrived("c1", "voice", ani, "")))


def test_a_tampered_or_malformed_sealed_value_is_a_decode_error_naming_the_field(serde: Serde) -> None:
    good = serde.decode(serde.encode(Message(ENV, ContactArrived("c0", "voice", PHONE, "")))).body
    sealed = serde.shredder.seal(Message(ENV, ContactArrived("c0", "voice", PHONE, ""))).body.ani  # type: ignore[union-attr]
    assert good.ani == PHONE and sealed.startswith(PREFIX)
    key_id = sealed[len(PREFIX) :].split(":")[0]
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    cases = {
        flipped: f"ContactArrived.ani: sealed value does not authenticate with key {key_id}",
        f"{PREFIX}{key_id}:!!!": "ContactArrived.ani: sealed value is not base64",
        f"{PREFIX}{key_id}:AAAA": "ContactArrived.ani: sealed value too short (3 bytes",
        f"{PREFIX}nokey": "ContactArrived.ani: sealed value without a key id",
    }
    for ani, reason in cases.items():
        with pytest.raises(DecodeError) as err:
            serde.decode(_sealed_ani(serde, ani))
        assert reason in err.value.reason


def test_an_unknown_key_id_reads_as_erased(serde: Serde) -> None:
    sealed = serde.shredder.seal(Message(ENV, ContactArrived("c0", "voice", PHONE, ""))).body.ani  # type: ignore[union-attr]
    unknown = PREFIX + "0" * 32 + sealed[len(PREFIX) + 32 :]
    assert serde.decode(_sealed_ani(serde, unknown)).body.ani == ERASED


def test_tuples_are_sealed_element_wise_and_empty_values_stay_empty(serde: Serde) -> None:
    body = CustomerDefined("k1", ("A", "B"), (), ("",), False, "", "", (), 1)
    sealed = serde.shredder.seal(Message(ENV, body)).body  # type: ignore[union-attr]
    assert [n.startswith(PREFIX) for n in sealed.names] == [True, True] and sealed.emails == ("",)
    ticket = TicketCreated("t1", "title", "text", "c", "p", "", "", "", 0, 0)  # no customer: not sealed
    assert serde.shredder.seal(Message(ENV, ticket)).body == ticket  # type: ignore[union-attr]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@hgiven(names=st.lists(st.text(min_size=1), min_size=1, max_size=4), ani=st.text())
def test_any_text_round_trips(serde: Serde, names: list[str], ani: str) -> None:
    msg = Message(ENV, CustomerDefined("k1", tuple(names), (), (), False, "", "", (), 1))
    assert serde.decode(serde.encode(msg)) == msg
    cdr = Message(ENV, dataclasses.replace(sample_message(BY_NAME["ContactRecord"]).body, ani=ani))
    assert serde.decode(serde.encode(cdr)) == cdr


# ---- the vault


def test_keys_survive_a_restart_and_another_process_forgets_erased_keys(tmp_path: Path) -> None:
    a = KeyVault(tmp_path / "keys.sqlite")
    b = KeyVault(tmp_path / "keys.sqlite", recheck_s=3600)
    try:
        kid, key = a.keys_for(["customer:t1:k1"])["customer:t1:k1"]
        assert b.key(kid) == key and b.keys_for(["customer:t1:k1"])["customer:t1:k1"] == (kid, key)
        a.erase(["customer:t1:k1"])
        assert b.key(kid) == key  # cached: b rechecks every recheck_s (0.1 s) ...
        b.refresh()  # ... or when asked
        assert b.key(kid) is None
        assert b.keys_for(["customer:t1:k1"])["customer:t1:k1"][0] != kid
    finally:
        a.close()
        b.close()


def test_a_bounded_cache_still_finds_every_key(tmp_path: Path) -> None:
    v = KeyVault(tmp_path / "keys.sqlite", cache_size=3)
    try:
        keys = v.keys_for(f"phone:t1:+{i}" for i in range(10))
        assert all(v.key(kid) == key for kid, key in keys.values())
    finally:
        v.close()


# ---- the decider and the directory


def _run(commands: list[object]) -> tuple[Any, list[object]]:
    d = CustomersDecider()
    state = d.initial_state()
    events: list[object] = []
    for n, body in enumerate(commands):
        msg = Message(Envelope(f"cmd{n}", "t1", n, f"c{n}"), body)
        try:
            out = d.decide(state, msg)
        except Exception:
            continue
        for e in out:
            state = d.evolve(state, Message(msg.envelope, e))
            events.append(e)
    return state, events


ZOE = DefineCustomer("k1", ("Zoë Adler",), (PHONE,), ("zoe@example.org",))


def test_erasing_decides_the_event_once_and_frees_the_numbers() -> None:
    g = given(*_run([ZOE])[1], decider=CustomersDecider())
    g.when(EraseCustomer("k1", " request 42 ", ("ab12",))).then(CustomerErased("k1", "request 42", ("ab12",)))
    state, events = _run([ZOE, EraseCustomer("k1"), EraseCustomer("k1")])
    assert [type(e).__name__ for e in events] == ["CustomerDefined", "CustomerErased"]
    t = state.tenant("t1")
    c = t.customers["k1"]
    assert c.erased and (c.names, c.phones, c.emails) == ((), (), ())
    assert PHONE not in t.phones and "zoe@example.org" not in t.emails
    _s, later = _run([ZOE, EraseCustomer("k1"), DefineCustomer("k2", ("New",), (PHONE,))])
    assert isinstance(later[-1], CustomerDefined) and later[-1].customer_id == "k2"


def test_erasure_refusals_name_the_reason() -> None:
    g = given(
        *_run([ZOE, DefineCustomer("k2", ("B",)), MergeCustomers("k1", "k2")])[1], decider=CustomersDecider()
    )
    g.when(EraseCustomer("k9")).invalid("customer_id: unknown customer 'k9'")
    g.when(EraseCustomer("")).invalid("customer_id must not be empty")
    g.when(EraseCustomer("k1", "", ("a:b",))).invalid("key_ids[0]: 'a:b' is not a key id")
    g.when(EraseCustomer("k2")).rejected("customer_merged")
    erased = given(*_run([ZOE, EraseCustomer("k1")])[1], decider=CustomersDecider())
    erased.when(UpdateCustomer("k1", ("vip",), vip=True)).rejected("customer_erased")
    erased.when(ZOE).then_types("CustomerDefined")  # defined again: a new profile


def test_erasing_a_survivor_empties_its_duplicates_and_lists_their_subjects() -> None:
    dup = DefineCustomer("k2", ("Zoe A.",), ("+12025550123",))
    state, _e = _run([ZOE, dup, MergeCustomers("k1", "k2")])
    subjects = erase_subjects(state.tenant("t1"), "t1", "k1")
    assert set(subjects) == {
        "customer:t1:k1",
        "customer:t1:k2",
        f"phone:t1:{PHONE}",
        "phone:t1:+12025550123",
        "email:t1:zoe@example.org",
    }
    state, _e = _run([ZOE, dup, MergeCustomers("k1", "k2"), EraseCustomer("k1")])
    assert "Zoe" not in repr(state.tenant("t1").customers["k2"])


@hsettings(max_examples=80, deadline=None)
@hgiven(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["define", "erase", "merge"]), st.sampled_from("123"), st.sampled_from("123")
        ),
        max_size=14,
    )
)
def test_no_erased_customer_keeps_a_profile_or_a_number(ops: list[tuple[str, str, str]]) -> None:
    commands: list[object] = []
    for op, a, b in ops:
        if op == "define":
            commands.append(
                DefineCustomer(f"k{a}", (f"Name {a}",), (f"+1202555010{a}",), (f"p{a}@example.org",))
            )
        elif op == "erase":
            commands.append(EraseCustomer(f"k{a}"))
        else:
            commands.append(MergeCustomers(f"k{a}", f"k{b}"))
    state, _e = _run(commands)
    t = state.tenant("t1")
    for cid, c in t.customers.items():
        if c.erased:
            assert (c.names, c.phones, c.emails, c.attributes) == ((), (), (), ())
            assert cid not in set(t.phones.values()) | set(t.emails.values())
            for dup in c.absorbed:
                assert t.customers[dup].names == ()


def _directory(messages: list[object]) -> DirectoryState:
    state = DirectoryState()
    for n, body in enumerate(messages):
        state = fold(state, Message(Envelope(f"m{n}", "t1", n, f"c{n}"), body))
    return state


def test_the_directory_forgets_the_profile_the_number_and_the_ticket_titles() -> None:
    cdr = dataclasses.replace(sample_message(BY_NAME["ContactRecord"]).body, contact_id="c2", ani=PHONE)
    assert isinstance(cdr, ContactRecord)
    events: list[object] = [
        ContactArrived("c1", "voice", PHONE, ""),  # before anyone owned the number
        PROFILE,
        cdr,
        TicketCreated("t1", "Zoë's refund", "", "billing", "high", "", "k1", "c2", 0, 0),
    ]
    before = _directory(events)
    assert screen_pop(before, "t1", PHONE)["customer"]["name"] == "Zoë Adler"
    after = _directory([*events, CustomerErased("k1", "request", ("ab",))])
    blob = pickle.dumps(after)
    for text in ("Zoë", PHONE, "zoe@example.org"):
        assert text.encode() not in blob, text
    pop = screen_pop(after, "t1", PHONE)
    assert pop["customer"] is None and pop["contacts"] == []
    assert len(after.tenant("t1").contacts) == 2  # the contacts stay, anonymous
    assert apply(after.tenant("t1").people, CustomerErased("k1", "", ())) is not None
