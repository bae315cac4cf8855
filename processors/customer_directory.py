"""The customer directory: who is calling, what happened before, what is still open.

A projection (it writes nothing) of `cc.customer-events` (the profiles, folded with
`processors.customers.apply`), `cc.contact-events` and `cc.cdr` (the interaction history)
and `cc.ticket-events` (open tickets), served by `screen_pop` to `GET
/v1/customers/screen-pop` (docs/customers.md).

Identification: an ANI is looked up as E.164 (`processors.customers.lookup_number`:
national formats with the directory's `region`, "00" prefixes, bare country codes), an
email address lower case. A merged customer resolves to its survivor.

History: a contact is attributed, when it arrives, to the live customer owning its ANI
then (the attribution does not change if the number later moves to someone else, so a
recycled number does not show its new owner the old owner's calls). A contact from a number
nobody owned yet is kept under the number and shows in the history of whoever owns the
number when asked. A survivor's history includes its merged duplicates'. Contact events
and CDRs may come in either order (different topics, different keys): both fill the same
record. Tickets count as open until resolved or closed.

Erasure (`CustomerErased`, docs/adr/0020): the profile is emptied (`processors.customers`),
and the contacts attributed to the customer or its duplicates, or kept under its numbers and
emails, lose their number and their place in the indexes; its tickets' titles read
"[erased]". Rebuilt from the log, the same holds: the erased values decode as "[erased]",
which is no number, so nothing is attributed to it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.bigmap import BigMap
from processors.customers import Customer, TenantCustomers, apply, lookup_number, normalise_email, resolve
from processors.pmap import PMap
from schemas.cdr import ContactRecord
from schemas.contact import ContactArrived, ContactConnected, ContactEnded, ContactQueued, WrapUpCompleted
from schemas.customers import CustomerDefined, CustomerErased, CustomersMerged, CustomerUpdated
from schemas.envelope import Message
from schemas.personal import ERASED
from schemas.tickets import TicketCreated, TicketStatusChanged

__all__ = [
    "CLOSED_TICKET_STATUSES",
    "Contact",
    "CustomerDirectory",
    "DirectoryState",
    "Ticket",
    "fold",
    "history",
    "identify",
    "open_tickets",
    "screen_pop",
]

CLOSED_TICKET_STATUSES = ("resolved", "closed")


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: str
    channel: str
    key: str
    """The E.164 number (or lower-case email) it came from; "" if unknown."""
    customer_id: str
    """The live customer owning `key` when it arrived ("" if nobody did)."""
    arrived_at: int
    queue_id: str = ""
    agent_id: str = ""
    ended_at: int = 0
    outcome: str = ""
    """How it ended: "completed", "abandoned", ... (ContactEnded), "answered"... (the CDR's)."""
    disposition: str = ""
    talk_ms: int = 0


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str
    customer_id: str
    contact_id: str
    title: str
    category: str
    priority: str
    status: str
    created_at: int


@dataclass(frozen=True, slots=True)
class DirectoryTenant:
    people: TenantCustomers = field(default_factory=TenantCustomers)
    contacts: BigMap[Contact] = field(default_factory=BigMap)
    by_customer: BigMap[tuple[str, ...]] = field(default_factory=BigMap)
    """Customer id (as attributed on arrival) -> its contact ids, in arrival order."""
    by_key: BigMap[tuple[str, ...]] = field(default_factory=BigMap)
    """Number or email -> contacts from it that no customer owned on arrival."""
    tickets: BigMap[Ticket] = field(default_factory=BigMap)
    tickets_by_customer: BigMap[tuple[str, ...]] = field(default_factory=BigMap)


@dataclass(frozen=True, slots=True)
class DirectoryState:
    tenants: PMap[DirectoryTenant] = field(default_factory=PMap)

    def tenant(self, tenant: str) -> DirectoryTenant:
        return self.tenants.get(tenant) or DirectoryTenant()


def _append(index: BigMap[tuple[str, ...]], key: str, value: str) -> BigMap[tuple[str, ...]]:
    return index.set(key, (*index.get(key, ()), value))


def _key(raw: str, region: str) -> str:
    if "@" in raw:
        try:
            return normalise_email(raw)
        except ValueError:
            return ""
    return lookup_number(raw, region)


def _owner(people: TenantCustomers, key: str) -> str:
    owner = people.emails.get(key) if "@" in key else people.phones.get(key)
    return owner or ""


def _new_contact(t: DirectoryTenant, c: Contact) -> DirectoryTenant:
    contacts = t.contacts.set(c.contact_id, c)
    if c.customer_id:
        return replace(t, contacts=contacts, by_customer=_append(t.by_customer, c.customer_id, c.contact_id))
    if c.key:
        return replace(t, contacts=contacts, by_key=_append(t.by_key, c.key, c.contact_id))
    return replace(t, contacts=contacts)


def _contact(t: DirectoryTenant, contact_id: str, **changes: Any) -> DirectoryTenant:
    c = t.contacts.get(contact_id)
    if c is None:
        return t
    return replace(t, contacts=t.contacts.set(contact_id, replace(c, **changes)))


def _forget(t: DirectoryTenant, customer_id: str) -> DirectoryTenant:
    """`t` with no trace of the customer's personal data (before its profile is emptied)."""
    c = t.people.customers.get(customer_id)
    if c is None:
        return t
    who = (customer_id, *c.absorbed)
    keys = (*c.phones, *c.emails)
    contacts, by_customer, by_key = t.contacts, t.by_customer, t.by_key
    ids = [cid for w in who for cid in by_customer.get(w, ())] + [
        cid for k in keys for cid in by_key.get(k, ())
    ]
    for cid in ids:
        contact = contacts.get(cid)
        if contact is not None:
            contacts = contacts.set(cid, replace(contact, key="", customer_id=""))
    for w in who:
        if w in by_customer:
            by_customer = by_customer.delete(w)
    for k in keys:
        if k in by_key:
            by_key = by_key.delete(k)
    tickets = t.tickets
    for w in who:
        for tid in t.tickets_by_customer.get(w, ()):
            ticket = tickets.get(tid)
            if ticket is not None:
                tickets = tickets.set(tid, replace(ticket, title=ERASED))
    return replace(t, contacts=contacts, by_customer=by_customer, by_key=by_key, tickets=tickets)


def _fold_tenant(t: DirectoryTenant, body: object, at: int, region: str) -> DirectoryTenant:
    match body:
        case CustomerErased():
            t = _forget(t, body.customer_id)
            return replace(t, people=apply(t.people, body))
        case CustomerDefined() | CustomerUpdated() | CustomersMerged():
            return replace(t, people=apply(t.people, body))
        case ContactArrived(contact_id=cid, channel=channel, ani=ani):
            if cid in t.contacts:
                return t
            key = _key(ani, region)
            return _new_contact(t, Contact(cid, channel, key, _owner(t.people, key), at))
        case ContactQueued(contact_id=cid, queue_id=q):
            return _contact(t, cid, queue_id=q)
        case ContactConnected(contact_id=cid, queue_id=q, agent_id=a):
            return _contact(t, cid, queue_id=q, agent_id=a)
        case ContactEnded(contact_id=cid, reason=reason, agent_id=a):
            c = t.contacts.get(cid)
            if c is None:
                return t
            return _contact(t, cid, ended_at=at, outcome=c.outcome or reason, agent_id=a or c.agent_id)
        case WrapUpCompleted(contact_id=cid, disposition=d):
            return _contact(t, cid, disposition=d)
        case ContactRecord():
            c = t.contacts.get(body.contact_id)
            if c is None:
                key = _key(body.ani, region)
                c = Contact(body.contact_id, body.channel, key, _owner(t.people, key), body.arrived_at)
                t = _new_contact(t, c)
            return _contact(
                t,
                body.contact_id,
                queue_id=body.queue_id or c.queue_id,
                agent_id=body.agent_id or c.agent_id,
                ended_at=body.finished_at or body.ended_at or c.ended_at,
                outcome=body.outcome,
                disposition=body.disposition or c.disposition,
                talk_ms=body.talk_ms,
            )
        case TicketCreated():
            customer = body.customer_id
            if not customer and body.contact_id in t.contacts:
                customer = t.contacts[body.contact_id].customer_id
            new = Ticket(
                body.ticket_id, customer, body.contact_id, body.title, body.category, body.priority, "new", at
            )
            t = replace(t, tickets=t.tickets.set(body.ticket_id, new))
            if customer:
                t = replace(t, tickets_by_customer=_append(t.tickets_by_customer, customer, body.ticket_id))
            return t
        case TicketStatusChanged(ticket_id=tid, to_status=status):
            ticket = t.tickets.get(tid)
            if ticket is None:
                return t
            return replace(t, tickets=t.tickets.set(tid, replace(ticket, status=status)))
    return t


def fold(state: DirectoryState, message: Message[Any], region: str = "") -> DirectoryState:
    """Fold one message of the inputs (others are ignored)."""
    tenant = message.envelope.tenant
    t = state.tenant(tenant)
    new = _fold_tenant(t, message.body, message.envelope.occurred_at, region)
    return state if new is t else DirectoryState(state.tenants.set(tenant, new))


# ---- queries (pure)


def identify(
    state: DirectoryState, tenant: str, ani: str = "", email: str = "", region: str = ""
) -> Customer | None:
    """The live customer calling from `ani` (any format) or writing from `email`."""
    people = state.tenant(tenant).people
    for raw in (ani, email):
        key = _key(raw, region) if raw else ""
        owner = _owner(people, key) if key else ""
        if owner:
            return resolve(people, owner)
    return None


def _ids(t: DirectoryTenant, customer: Customer) -> list[str]:
    ids = [cid for who in (customer.customer_id, *customer.absorbed) for cid in t.by_customer.get(who, ())]
    for key in (*customer.phones, *customer.emails):
        ids += t.by_key.get(key, ())
    return ids


def history(state: DirectoryState, tenant: str, customer_id: str, last: int = 10) -> list[Contact]:
    """The customer's last `last` contacts (survivor's and its duplicates'), newest first."""
    t = state.tenant(tenant)
    customer = resolve(t.people, customer_id)
    if customer is None:
        return []
    contacts = [t.contacts[cid] for cid in dict.fromkeys(_ids(t, customer))]
    return sorted(contacts, key=lambda c: (-c.arrived_at, c.contact_id))[: max(0, last)]


def open_tickets(state: DirectoryState, tenant: str, customer_id: str) -> list[Ticket]:
    """The customer's tickets (survivor's and its duplicates') not resolved or closed, newest first."""
    t = state.tenant(tenant)
    customer = resolve(t.people, customer_id)
    if customer is None:
        return []
    ids = [
        tid
        for who in (customer.customer_id, *customer.absorbed)
        for tid in t.tickets_by_customer.get(who, ())
    ]
    found = [t.tickets[tid] for tid in dict.fromkeys(ids)]
    return sorted(
        (x for x in found if x.status not in CLOSED_TICKET_STATUSES),
        key=lambda x: (-x.created_at, x.ticket_id),
    )


def _profile(c: Customer) -> dict[str, Any]:
    return {
        "customer_id": c.customer_id,
        "name": c.names[0] if c.names else "",
        "names": list(c.names),
        "phones": list(c.phones),
        "emails": list(c.emails),
        "vip": c.vip,
        "language": c.language,
        "segment": c.segment,
        "attributes": {a.name: a.value for a in c.attributes},
        "merged": list(c.absorbed),
        "version": c.version,
    }


def customer_view(
    state: DirectoryState, tenant: str, customer_id: str, last: int = 10
) -> dict[str, Any] | None:
    """A customer's profile (a merged duplicate resolves to its survivor), last `last`
    contacts and open tickets; None for an unknown (or erased) customer."""
    customer = resolve(state.tenant(tenant).people, customer_id)
    if customer is None:
        return None
    return {
        "customer": _profile(customer),
        "contacts": [dataclasses.asdict(c) for c in history(state, tenant, customer.customer_id, last)],
        "open_tickets": [dataclasses.asdict(x) for x in open_tickets(state, tenant, customer.customer_id)],
    }


def screen_pop(
    state: DirectoryState, tenant: str, ani: str, *, email: str = "", region: str = "", last: int = 5
) -> dict[str, Any]:
    """What an agent sees when a contact from `ani` (or `email`) is offered: the customer's
    profile (None if unknown), the last `last` contacts and the open tickets. For an unknown
    caller the contacts are the earlier ones from the same number."""
    key = _key(ani, region) if ani else ""
    customer = identify(state, tenant, ani, email, region)
    if customer is None:
        t = state.tenant(tenant)
        earlier = sorted(
            (t.contacts[cid] for cid in t.by_key.get(key, ()) if key),
            key=lambda c: (-c.arrived_at, c.contact_id),
        )
        contacts: Sequence[Contact] = earlier[: max(0, last)]
        tickets: Sequence[Ticket] = []
    else:
        contacts = history(state, tenant, customer.customer_id, last)
        tickets = open_tickets(state, tenant, customer.customer_id)
    return {
        "ani": ani,
        "number": key,
        "customer": None if customer is None else _profile(customer),
        "contacts": [dataclasses.asdict(c) for c in contacts],
        "open_tickets": [dataclasses.asdict(x) for x in tickets],
    }


@dataclass(frozen=True)
class CustomerDirectory:
    """The directory as a runner drives it (a projection: it writes nothing). `region` is the
    country national ANIs belong to ("DE"); a contact's number is normalised when folded, so
    a changed region applies to contacts folded from then on (rebuild to apply it to all)."""

    name: str = "customer-directory"
    version: int = 1
    inputs: tuple[str, ...] = ("cc.customer-events", "cc.contact-events", "cc.cdr", "cc.ticket-events")
    outputs: tuple[str, ...] = ()
    region: str = ""

    def initial_state(self) -> DirectoryState:
        return DirectoryState()

    def process(
        self, state: DirectoryState, message: Message[Any]
    ) -> tuple[DirectoryState, Sequence[Message[Any]]]:
        return fold(state, message, self.region), ()
