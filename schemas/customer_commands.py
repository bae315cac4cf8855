"""Customer commands (on `cc.commands`, keyed by tenant, namespace `ccx.command`): define a
customer profile, change parts of it, merge a duplicate into a survivor, erase a customer's
personal data (docs/adr/0020). Decided by
`processors.customers`; the ACD ignores them (docs/customers.md).

Phone numbers may be given in any format the `phonenumbers` library parses: E.164
("+4930123456"), or national ("030 123456") with `region` (ISO 3166 alpha-2, e.g. "DE")
naming the country they are national to. The decider records them as E.164.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DefineCustomer", "EraseCustomer", "MergeCustomers", "UpdateCustomer"]


@dataclass(frozen=True, slots=True)
class CustomerAttribute:
    """A free-form profile attribute (`name` unique per customer), e.g. ("contract", "gold")."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class DefineCustomer:
    """Create the customer `customer_id`, or replace its whole profile (an upsert).

    `names` (at least one: the first is the display name), `phones` (each owned by at most
    one live customer), `emails` (compared case-insensitively), `vip`, `language` (a BCP 47
    tag such as "de" or "en-GB"), `segment` (free text, e.g. "retail") and `attributes`."""

    customer_id: str
    names: tuple[str, ...]
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    vip: bool = False
    language: str = ""
    segment: str = ""
    attributes: tuple[CustomerAttribute, ...] = ()
    region: str = ""


@dataclass(frozen=True, slots=True)
class UpdateCustomer:
    """Change the profile fields named in `update_mask` (any of names, phones, emails, vip,
    language, segment, attributes) to the values given here; other fields stay as they are.
    A list field named is replaced whole."""

    customer_id: str
    update_mask: tuple[str, ...]
    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    vip: bool = False
    language: str = ""
    segment: str = ""
    attributes: tuple[CustomerAttribute, ...] = ()
    region: str = ""


@dataclass(frozen=True, slots=True)
class MergeCustomers:
    """`duplicate_id` is the same person as `survivor_id`: its numbers, emails and history
    move to the survivor, and it resolves to the survivor from now on."""

    survivor_id: str
    duplicate_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EraseCustomer:
    """Erase the personal data of `customer_id` (a privacy request; `reason` says whose, e.g.
    "GDPR art. 17 request 2024-117"). The edge that appends it (`ccx customers erase`) has
    already deleted the keys of the customer's data; `key_ids` names them (ids, never
    personal data) so the event records what was shredded."""

    customer_id: str
    reason: str = ""
    key_ids: tuple[str, ...] = ()
