"""Which fields of which messages hold personal data, and whose data it is (docs/adr/0020).

`PERSONAL` maps a message type's name to its `Personal` rules. Each rule names string (or
tuple-of-string) fields and the *subject* whose key encrypts them on the wire
(`streams.serde`): either the customer a field names (`by="customer_id"`), or the phone
number / email address in a field (`kind="address"`, e.g. a contact's ANI: a contact
arrives before anyone knows the customer, so the number itself is the subject). Erasing a
customer deletes the keys of the customer and of every number and email its profile holds.

Types owned by other modules (commands, contact events, CDRs, IVR, telephony, tickets) are
marked here rather than in their dataclasses, so one file lists every personal field ccx
writes. Pure data: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ERASED", "PERSONAL", "Personal", "subject_of"]

ERASED = "[erased]"
"""What a personal string reads as once its key is gone (each element of a tuple alike)."""


@dataclass(frozen=True, slots=True)
class Personal:
    """`fields` of a type are personal data of the subject named by the field `by`:
    `kind="customer"` — the customer id in `by`; `kind="address"` — the phone number or
    email address in `by` (often the field itself). An empty `by` value: not encrypted."""

    fields: tuple[str, ...]
    kind: Literal["customer", "address"]
    by: str


_PROFILE = (Personal(("names", "phones", "emails"), "customer", "customer_id"),)
_ANI = (Personal(("ani",), "address", "ani"),)

PERSONAL: dict[str, tuple[Personal, ...]] = {
    # customers (schemas.customer_commands, schemas.customers)
    "DefineCustomer": _PROFILE,
    "UpdateCustomer": _PROFILE,
    "CustomerDefined": _PROFILE,
    "CustomerUpdated": _PROFILE,
    "CustomersMerged": (Personal(("names", "phones", "emails"), "customer", "survivor_id"),),
    # contacts (schemas.commands, schemas.contact, schemas.cdr, schemas.ivr, schemas.telephony)
    "RouteContact": _ANI,
    "ContactArrived": _ANI,
    "ContactBlocked": _ANI,
    "ContactRecord": _ANI,
    "IvrStarted": _ANI,
    "CallStarted": (Personal(("ani", "ani_name"), "address", "ani"),),
    # tickets (schemas.ticket_commands, schemas.tickets): text tied to a known customer
    "CreateTicket": (Personal(("title", "description"), "customer", "customer_id"),),
    "TicketCreated": (Personal(("title", "description"), "customer", "customer_id"),),
    "CustomerNotificationRequested": (Personal(("to",), "address", "to"),),
}


def subject_of(
    kind: str, tenant: str, value: str, normalise_phone: Callable[[str], str] | None = None
) -> str:
    """The key subject of a value: `customer:<tenant>:<id>`, `email:<tenant>:<lower-case
    address>` or `phone:<tenant>:<number>` ("" for an empty value). `normalise_phone`
    (str -> str, "" if not a number) turns an ANI into the E.164 form profiles hold."""
    text = value.strip()
    if not text:
        return ""
    if kind == "customer":
        return f"customer:{tenant}:{text}"
    if "@" in text:
        return f"email:{tenant}:{text.lower()}"
    number = normalise_phone(text) if normalise_phone is not None else ""
    return f"phone:{tenant}:{number or text}"
