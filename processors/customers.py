"""The customers decider: profiles defined, updated and merged, as `cc.customer-events`.

`decide(state, command)` validates a `DefineCustomer`, `UpdateCustomer`, `MergeCustomers` or
`EraseCustomer`
(other commands on `cc.commands` are not its own: it decides nothing for them) and returns
the event with the customer's whole profile after the change. Input that is not acceptable
at all raises `Invalid` naming the field ("phones[1]: '12' is not a valid phone number");
a well-formed command that conflicts with the directory raises `Rejected` with a code of
`REJECTION_CODES` — a phone number or email that another live customer owns (merge the two
if they are one person), a change to a customer already merged into another, or an update
or merge of an erased customer (define it again instead).

Erasure (docs/adr/0020): `CustomerErased` leaves the id known with an empty profile
(`Customer.erased`), its numbers and emails free, and the duplicates merged into it emptied
too; erasing it again decides nothing.

Phone numbers are parsed with `phonenumbers` (libphonenumber's data; pure, no I/O) and
recorded as E.164, so every reader compares numbers as plain strings and nobody re-parses
a stored number (docs/adr/0019). Emails are recorded lower case. A command that changes
nothing decides nothing, so importing the same file twice adds no events.

State is per tenant (`CustomerState.tenants`): every customer by id (a merged duplicate
stays, pointing at its survivor), and the owner of every number and email. `apply` is the
fold, shared with `processors.customer_directory`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import phonenumbers

from processors.bigmap import BigMap
from processors.decider import DeciderProcessor, Invalid, Rejected
from processors.pmap import PMap
from schemas import customer_commands
from schemas.customer_commands import (
    CustomerAttribute,
    DefineCustomer,
    EraseCustomer,
    MergeCustomers,
    UpdateCustomer,
)
from schemas.customers import CustomerDefined, CustomerErased, CustomersMerged, CustomerUpdated
from schemas.envelope import Message

__all__ = [
    "PROFILE_FIELDS",
    "REJECTION_CODES",
    "Customer",
    "CustomerState",
    "TenantCustomers",
    "apply",
    "check_define",
    "erase_subjects",
    "customers_processor",
    "lookup_number",
    "normalise_email",
    "normalise_phone",
    "resolve",
]

PROFILE_FIELDS = ("names", "phones", "emails", "vip", "language", "segment", "attributes")
"""The fields of a profile, in the order events and `UpdateCustomer.update_mask` use."""
REJECTION_CODES = ("phone_in_use", "email_in_use", "customer_merged", "customer_erased")

_MINE = frozenset(getattr(customer_commands, n) for n in customer_commands.__all__)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_MAX_CHAIN = 1000  # merges never form a cycle; the bound only guards a corrupt state


def normalise_phone(raw: str, region: str = "") -> str:
    """`raw` as E.164; ValueError says why not. National formats need `region` ("DE")."""
    text = raw.strip()
    if not text:
        raise ValueError("must not be empty")
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException as e:
        hint = "" if region or text.startswith("+") else " (give +country code or a region)"
        raise ValueError(f"{raw!r} is not a phone number: {e._msg}{hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def lookup_number(raw: str, region: str = "") -> str:
    """An ANI as the E.164 key it would be stored under, leniently ("" if it is no number):
    the switch's "anonymous", national numbers (with `region`), "00" and bare country codes."""
    text = raw.strip()
    if not text or "@" in text:
        return ""
    try:
        return normalise_phone(text, region)
    except ValueError:
        pass
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and not text.startswith("+"):
        try:
            return normalise_phone("+" + digits)  # a country code without "+" or "00"
        except ValueError:
            pass
    return ""


def normalise_email(raw: str) -> str:
    """`raw` lower case; ValueError if it is not shaped like an address."""
    text = raw.strip().lower()
    if not _EMAIL.match(text):
        raise ValueError(f"{raw!r} is not an email address")
    return text


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    names: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    vip: bool
    language: str
    segment: str
    attributes: tuple[CustomerAttribute, ...]
    version: int
    merged_into: str = ""
    """The survivor this customer was merged into ("" while it is live)."""
    absorbed: tuple[str, ...] = ()
    """Every customer merged into this one, directly or through another merge."""
    erased: bool = False
    """Its personal data was erased (CustomerErased): the profile is empty until defined again."""

    def profile(self) -> tuple[object, ...]:
        return tuple(getattr(self, f) for f in PROFILE_FIELDS)


@dataclass(frozen=True, slots=True)
class TenantCustomers:
    customers: BigMap[Customer] = field(default_factory=BigMap)
    phones: BigMap[str] = field(default_factory=BigMap)
    """E.164 number -> the live customer owning it."""
    emails: BigMap[str] = field(default_factory=BigMap)
    """Lower-case email -> the live customer owning it."""


@dataclass(frozen=True, slots=True)
class CustomerState:
    tenants: PMap[TenantCustomers] = field(default_factory=PMap)

    def tenant(self, tenant: str) -> TenantCustomers:
        return self.tenants.get(tenant) or TenantCustomers()

    def with_tenant(self, tenant: str, t: TenantCustomers) -> CustomerState:
        return CustomerState(self.tenants.set(tenant, t))


def resolve(t: TenantCustomers, customer_id: str) -> Customer | None:
    """The live customer `customer_id` is (itself, or the survivor it was merged into)."""
    c = t.customers.get(customer_id)
    for _ in range(_MAX_CHAIN):
        if c is None or not c.merged_into:
            return c
        c = t.customers.get(c.merged_into)
    return None


# ---- the fold


def _index(t: TenantCustomers, old: Customer | None, new: Customer) -> TenantCustomers:
    phones, emails = t.phones, t.emails
    cid = new.customer_id
    for p in old.phones if old else ():
        if p not in new.phones and phones.get(p) == cid:
            phones = phones.delete(p)
    for e in old.emails if old else ():
        if e not in new.emails and emails.get(e) == cid:
            emails = emails.delete(e)
    for p in new.phones:
        if phones.get(p) != cid:
            phones = phones.set(p, cid)
    for e in new.emails:
        if emails.get(e) != cid:
            emails = emails.set(e, cid)
    return TenantCustomers(t.customers.set(cid, new), phones, emails)


def apply(t: TenantCustomers, body: object) -> TenantCustomers:
    """Fold one customer event into a tenant's directory (never fails; others are ignored)."""
    match body:
        case CustomerDefined() | CustomerUpdated():
            old = t.customers.get(body.customer_id)
            new = Customer(
                body.customer_id,
                tuple(body.names),
                tuple(body.phones),
                tuple(body.emails),
                body.vip,
                body.language,
                body.segment,
                tuple(body.attributes),
                body.version,
                old.merged_into if old else "",
                old.absorbed if old else (),
            )
            return _index(t, old, new)
        case CustomersMerged():
            dup = t.customers.get(body.duplicate_id)
            survivor = t.customers.get(body.survivor_id)
            absorbed = (body.duplicate_id, *(dup.absorbed if dup else ()))
            if dup is not None:
                gone = replace(dup, phones=(), emails=(), merged_into=body.survivor_id)
                t = _index(t, dup, gone)
            new = Customer(
                body.survivor_id,
                tuple(body.names),
                tuple(body.phones),
                tuple(body.emails),
                body.vip,
                body.language,
                body.segment,
                tuple(body.attributes),
                body.version,
                "",
                (*(survivor.absorbed if survivor else ()), *absorbed),
            )
            return _index(t, survivor, new)
        case CustomerErased():
            return _erase(t, body.customer_id)
    return t


def _erase(t: TenantCustomers, customer_id: str) -> TenantCustomers:
    """The customer and its absorbed duplicates with empty profiles, their numbers freed."""
    old = t.customers.get(customer_id)
    if old is None:
        return t
    for cid in (customer_id, *old.absorbed):
        c = t.customers.get(cid)
        if c is not None:
            blank = Customer(
                cid, (), (), (), False, "", "", (), c.version + 1, c.merged_into, c.absorbed, True
            )
            t = _index(t, c, blank)
    return t


def erase_subjects(t: TenantCustomers, tenant: str, customer_id: str) -> tuple[str, ...]:
    """The key subjects (`schemas.personal.subject_of`) whose keys erasing `customer_id`
    deletes: the customer, its absorbed duplicates, and every number and email of its profile
    (one the edge computes from the directory before it appends `EraseCustomer`)."""
    c = t.customers.get(customer_id)
    if c is None:
        return ()
    ids = (customer_id, *c.absorbed)
    return (
        *(f"customer:{tenant}:{cid}" for cid in ids),
        *(f"phone:{tenant}:{p}" for p in c.phones),
        *(f"email:{tenant}:{e}" for e in c.emails),
    )


# ---- decisions


def _texts(values: Sequence[str], name: str, norm: Any, *extra: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, raw in enumerate(values):
        try:
            value = norm(raw, *extra)
        except ValueError as e:
            raise Invalid(f"{name}[{i}]: {e}") from None
        if value not in out:
            out.append(value)
    return tuple(out)


def _name(raw: str) -> str:
    text = " ".join(raw.split())
    if not text:
        raise ValueError("must not be empty")
    return text


def _check(cmd: DefineCustomer | UpdateCustomer, fields: Sequence[str]) -> dict[str, Any]:
    """The named fields of `cmd`, validated and normalised."""
    if cmd.region and cmd.region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid(f"region: {cmd.region!r} is not a region code such as 'DE' or 'US'")
    out: dict[str, Any] = {}
    for f in fields:
        match f:
            case "names":
                names = _texts(cmd.names, "names", _name)
                if not names:
                    raise Invalid("names must hold at least one name")
                out[f] = names
            case "phones":
                out[f] = _texts(cmd.phones, "phones", normalise_phone, cmd.region)
            case "emails":
                out[f] = _texts(cmd.emails, "emails", normalise_email)
            case "language":
                if cmd.language and not _LANGUAGE.match(cmd.language):
                    raise Invalid(f"language: {cmd.language!r} is not a language tag such as 'de' or 'en-GB'")
                out[f] = cmd.language
            case "segment":
                out[f] = cmd.segment.strip()
            case "attributes":
                seen: set[str] = set()
                for i, a in enumerate(cmd.attributes):
                    if not a.name.strip():
                        raise Invalid(f"attributes[{i}].name must not be empty")
                    if a.name in seen:
                        raise Invalid(f"attributes[{i}].name: {a.name!r} is given twice")
                    seen.add(a.name)
                out[f] = tuple(cmd.attributes)
            case _:
                out[f] = getattr(cmd, f)
    return out


def check_define(cmd: DefineCustomer) -> DefineCustomer:
    """`cmd` checked as `decide` checks it (`Invalid` names the field) and normalised: E.164
    numbers, lower-case emails, tidy names; the directory is not consulted."""
    if not cmd.customer_id:
        raise Invalid("customer_id must not be empty")
    return DefineCustomer(cmd.customer_id, **_check(cmd, PROFILE_FIELDS))


def _live(t: TenantCustomers, customer_id: str, name: str, erased_ok: bool = False) -> Customer:
    if not customer_id:
        raise Invalid(f"{name} must not be empty")
    c = t.customers.get(customer_id)
    if c is None:
        raise Invalid(f"{name}: unknown customer {customer_id!r}")
    if c.merged_into:
        raise Rejected(
            "customer_merged", f"customer {customer_id!r} was merged into {c.merged_into!r}; change that one"
        )
    if c.erased and not erased_ok:
        raise Rejected(
            "customer_erased", f"customer {customer_id!r} was erased; define it again to give it a profile"
        )
    return c


def _owned(t: TenantCustomers, customer_id: str, values: dict[str, Any]) -> None:
    """Refuse numbers and emails another live customer owns."""
    for f, index, code in (("phones", t.phones, "phone_in_use"), ("emails", t.emails, "email_in_use")):
        for i, v in enumerate(values.get(f, ())):
            owner = index.get(v)
            if owner is not None and owner != customer_id:
                raise Rejected(
                    code,
                    f"{f}[{i}]: {v} belongs to customer {owner!r}; "
                    "if they are one person, merge them (MergeCustomers)",
                )


def _define(t: TenantCustomers, cmd: DefineCustomer) -> list[object]:
    if not cmd.customer_id:
        raise Invalid("customer_id must not be empty")
    values = _check(cmd, PROFILE_FIELDS)
    old = t.customers.get(cmd.customer_id)
    if old is not None and old.merged_into:
        _live(t, cmd.customer_id, "customer_id", erased_ok=True)
    _owned(t, cmd.customer_id, values)
    if old is not None and old.profile() == tuple(values[f] for f in PROFILE_FIELDS):
        return []
    return [CustomerDefined(cmd.customer_id, version=old.version + 1 if old else 1, **values)]


def _update(t: TenantCustomers, cmd: UpdateCustomer) -> list[object]:
    old = _live(t, cmd.customer_id, "customer_id")
    if not cmd.update_mask:
        raise Invalid(f"update_mask must name at least one of {', '.join(PROFILE_FIELDS)}")
    for i, f in enumerate(cmd.update_mask):
        if f not in PROFILE_FIELDS:
            raise Invalid(f"update_mask[{i}]: {f!r} is not a profile field; use {', '.join(PROFILE_FIELDS)}")
    values = _check(cmd, [f for f in PROFILE_FIELDS if f in cmd.update_mask])
    _owned(t, cmd.customer_id, values)
    changed = tuple(f for f in PROFILE_FIELDS if f in values and values[f] != getattr(old, f))
    if not changed:
        return []
    profile = {f: values.get(f, getattr(old, f)) for f in PROFILE_FIELDS}
    return [CustomerUpdated(cmd.customer_id, changed, version=old.version + 1, **profile)]


def _erase_customer(t: TenantCustomers, cmd: EraseCustomer) -> list[object]:
    c = _live(t, cmd.customer_id, "customer_id", erased_ok=True)
    for i, k in enumerate(cmd.key_ids):
        if not k or ":" in k:
            raise Invalid(f"key_ids[{i}]: {k!r} is not a key id")
    if c.erased:
        return []
    return [CustomerErased(c.customer_id, cmd.reason.strip(), tuple(cmd.key_ids))]


def _union(a: Sequence[Any], b: Sequence[Any]) -> tuple[Any, ...]:
    return (*a, *(x for x in b if x not in a))


def _merge(t: TenantCustomers, cmd: MergeCustomers) -> list[object]:
    survivor = _live(t, cmd.survivor_id, "survivor_id")
    if cmd.duplicate_id == cmd.survivor_id:
        raise Invalid("duplicate_id must not be the survivor_id")
    dup = _live(t, cmd.duplicate_id, "duplicate_id")
    own = {a.name for a in survivor.attributes}
    return [
        CustomersMerged(
            survivor.customer_id,
            dup.customer_id,
            cmd.reason,
            _union(survivor.names, dup.names),
            _union(survivor.phones, dup.phones),
            _union(survivor.emails, dup.emails),
            survivor.vip or dup.vip,
            survivor.language or dup.language,
            survivor.segment or dup.segment,
            (*survivor.attributes, *(a for a in dup.attributes if a.name not in own)),
            survivor.version + 1,
        )
    ]


class CustomersDecider:
    """The decider (`processors.decider.Decider`), driven by `customers_processor()`."""

    name = "customers"
    inputs: tuple[str, ...] = ("cc.commands",)
    outputs: tuple[str, ...] = ("cc.customer-events", "cc.command-results")
    version = 1

    def initial_state(self) -> CustomerState:
        return CustomerState()

    def decide(self, state: CustomerState, command: Message[Any]) -> Sequence[object]:
        body = command.body
        if type(body) not in _MINE:
            return ()
        t = state.tenant(command.envelope.tenant)
        match body:
            case DefineCustomer():
                return _define(t, body)
            case UpdateCustomer():
                return _update(t, body)
            case MergeCustomers():
                return _merge(t, body)
            case EraseCustomer():
                return _erase_customer(t, body)
        raise Invalid(f"the customers processor does not handle {type(body).__name__}")

    def evolve(self, state: CustomerState, event: Message[Any]) -> CustomerState:
        tenant = event.envelope.tenant
        return state.with_tenant(tenant, apply(state.tenant(tenant), event.body))


def customers_processor() -> DeciderProcessor[CustomerState]:
    """The customers decider as the runner drives it: reads `cc.commands`, writes customer events."""
    d = CustomersDecider
    return DeciderProcessor(CustomersDecider(), d.inputs, d.version, d.outputs)
