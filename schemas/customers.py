"""Customer events (public topic `cc.customer-events`, keyed by tenant): the customer
profiles ccx decided from `DefineCustomer`, `UpdateCustomer` and `MergeCustomers`
(`processors.customers`, docs/customers.md), and their erasure (`CustomerErased`, ADR 20).

Every event carries the customer's whole profile after the change (event-carried state),
so a consumer needs only the last event per customer. Phone numbers are E.164
("+4930123456"), emails lower case. `version` counts the changes of a customer (1 when
defined). A merged duplicate is never defined again: it resolves to its survivor.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.customer_commands import CustomerAttribute

__all__ = ["CustomerDefined", "CustomerErased", "CustomerUpdated", "CustomersMerged"]


@dataclass(frozen=True, slots=True)
class CustomerDefined:
    """The customer's profile was defined (created, or replaced whole)."""

    customer_id: str
    names: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    vip: bool
    language: str
    segment: str
    attributes: tuple[CustomerAttribute, ...]
    version: int


@dataclass(frozen=True, slots=True)
class CustomerUpdated:
    """Some fields of the profile changed (`changed` names them); the profile as it is now."""

    customer_id: str
    changed: tuple[str, ...]
    names: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    vip: bool
    language: str
    segment: str
    attributes: tuple[CustomerAttribute, ...]
    version: int


@dataclass(frozen=True, slots=True)
class CustomersMerged:
    """`duplicate_id` was merged into `survivor_id` for `reason`; the survivor's profile after
    the merge follows (its own values first, the duplicate's added: names, phones, emails,
    attributes it lacked; vip if either was; language and segment if it had none). The
    duplicate keeps no number or email and resolves to the survivor from now on."""

    survivor_id: str
    duplicate_id: str
    reason: str
    names: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    vip: bool
    language: str
    segment: str
    attributes: tuple[CustomerAttribute, ...]
    version: int


@dataclass(frozen=True, slots=True)
class CustomerErased:
    """The personal data of `customer_id` (and of the duplicates merged into it) was erased
    for `reason`: the keys `key_ids` are deleted, so every name, number, email and ticket
    text sealed with them reads as "[erased]" (docs/adr/0020). Projections forget the
    profile and anonymise what they derived from it; the id stays known, with no profile."""

    customer_id: str
    reason: str
    key_ids: tuple[str, ...]
