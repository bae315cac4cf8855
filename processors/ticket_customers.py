"""What the tickets decider knows of customers: how to reach them, from `cc.customer-events`.

A minimal map customer id -> `Reach` (phones, emails, language, and the survivor when the
customer was merged into another), folded by `learn` from `CustomerDefined`,
`CustomerUpdated` and `CustomersMerged` (each carries the whole profile after the change);
`CustomerErased` forgets the customer's addresses and marks it erased, so nothing is sent
to an address learned before (docs/adr/0020).
`address` picks the address of a notification channel: the first phone for "sms", the
first email for "email", following merges to the survivor. Pure, like every decider part.
"""

from __future__ import annotations

from dataclasses import dataclass

from processors.pmap import PMap
from schemas.customers import CustomerDefined, CustomerErased, CustomersMerged, CustomerUpdated

__all__ = ["CUSTOMER_EVENTS", "Reach", "address", "learn", "reach"]

CUSTOMER_EVENTS = (CustomerDefined, CustomerUpdated, CustomersMerged, CustomerErased)
_MAX_CHAIN = 1000  # merges never form a cycle; the bound only guards a corrupt state


@dataclass(frozen=True, slots=True)
class Reach:
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    language: str = ""
    merged_into: str = ""
    erased: bool = False


def learn(customers: PMap[Reach], event: object) -> PMap[Reach]:
    """Fold one customer event (anything else changes nothing)."""
    match event:
        case CustomerDefined() | CustomerUpdated():
            return customers.set(event.customer_id, Reach(event.phones, event.emails, event.language))
        case CustomersMerged():
            survivor = Reach(event.phones, event.emails, event.language)
            return customers.set(event.survivor_id, survivor).set(
                event.duplicate_id, Reach(merged_into=event.survivor_id)
            )
        case CustomerErased():
            return customers.set(event.customer_id, Reach(erased=True))
    return customers


def reach(customers: PMap[Reach], customer_id: str) -> Reach | None:
    """The customer's reach (its survivor's when merged); None for an unknown customer."""
    found = customers.get(customer_id) if customer_id else None
    for _ in range(_MAX_CHAIN):
        if found is None or not found.merged_into:
            return found
        found = customers.get(found.merged_into)
    return None


def address(customers: PMap[Reach], customer_id: str, channel: str) -> str:
    """The customer's address for `channel` ("sms": first phone, "email": first email), or ""."""
    r = reach(customers, customer_id)
    if r is None:
        return ""
    found = r.phones if channel == "sms" else r.emails if channel == "email" else ()
    return found[0] if found else ""
