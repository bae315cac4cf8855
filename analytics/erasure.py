"""Erasure in the warehouse: a `CustomerErased` anonymises the rows that hold the customer's
personal data in place, so every count stays (docs/adr/0020).

The log's copies are unreadable once the keys are gone; the warehouse holds *decoded*
copies, so the sink calls `erase_customers` for each batch. For every erased customer the
values to remove are read from the warehouse itself: the names, numbers and emails of the
profile events in `raw_events` of the customer and the duplicates merged into it, and the
title and description of its tickets. Then mutations (`ALTER TABLE … UPDATE`, waited for)
replace them by "[erased]": `contacts.ani` equal to one of the numbers (as E.164, digits, or
with "00"), and in `raw_events.payload` each JSON string equal to a value (and numbers and
emails inside longer strings, e.g. a rejection reason). Row counts and keys do not change.

Needs the sink to have written the customer's profile events before its `CustomerErased`
(the usual case: both are on `cc.customer-events`, in order); a CDR written from a lagging
topic after that reads "[erased]" from the log anyway.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from analytics.warehouse import Warehouse
from schemas.customers import CustomerErased
from schemas.envelope import Message
from schemas.personal import ERASED
from streams.ports import Record

__all__ = ["erase_customer", "erase_customers", "personal_values"]

_PROFILE_TYPES = ("CustomerDefined", "CustomerUpdated", "CustomersMerged")
_SYNC = " SETTINGS mutations_sync = 2"


def erase_customers(warehouse: Warehouse, batch: Sequence[tuple[Record, Message[Any]]]) -> int:
    """Anonymise the rows of every customer erased in `batch`; how many were erased."""
    erased = [(m.envelope.tenant, m.body.customer_id) for _, m in batch if isinstance(m.body, CustomerErased)]
    for tenant, customer_id in erased:
        erase_customer(warehouse, tenant, customer_id)
    return len(erased)


def _payloads(warehouse: Warehouse, tenant: str, types: Sequence[str]) -> list[dict[str, Any]]:
    sql = "SELECT payload FROM raw_events FINAL WHERE tenant = {t:String} AND type IN {types:Array(String)}"
    return [json.loads(p) for (p,) in warehouse.query_rows(sql, {"t": tenant, "types": list(types)})]


def personal_values(warehouse: Warehouse, tenant: str, customer_id: str) -> tuple[set[str], set[str]]:
    """(whole values: names, ticket texts; addresses: numbers and emails) of the customer
    and its duplicates, as the warehouse holds them."""
    profiles = _payloads(warehouse, tenant, _PROFILE_TYPES)
    ids = {customer_id}
    while True:  # duplicates merged into the customer, and theirs
        more = {p["duplicate_id"] for p in profiles if p.get("survivor_id") in ids} - ids
        if not more:
            break
        ids |= more
    whole: set[str] = set()
    addresses: set[str] = set()
    for p in profiles:
        if p.get("customer_id") in ids or p.get("survivor_id") in ids:
            whole.update(p.get("names", ()))
            addresses.update(p.get("phones", ()))
            addresses.update(p.get("emails", ()))
    for t in _payloads(warehouse, tenant, ("TicketCreated",)):
        if t.get("customer_id") in ids:
            whole.update(v for v in (t.get("title", ""), t.get("description", "")))
    whole = {v for v in whole | addresses if v and v != ERASED}
    return whole, {v for v in addresses if v and v != ERASED}


def _number_forms(addresses: set[str]) -> list[str]:
    forms: set[str] = set()
    for a in addresses:
        if a.startswith("+"):
            forms |= {a, a[1:], "00" + a[1:]}
        else:
            forms.add(a)
    return sorted(forms)


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _anonymised(payload: str, whole: list[str], parts: list[str]) -> str:
    """`payload` with every JSON string equal to one of `whole`, and every occurrence of
    one of `parts` inside a string, replaced by the marker."""
    marker = _json_text(ERASED)
    for v in whole:
        payload = payload.replace(f'"{_json_text(v)}"', f'"{marker}"')
    for v in parts:
        payload = payload.replace(_json_text(v), marker)
    return payload


def erase_customer(warehouse: Warehouse, tenant: str, customer_id: str) -> None:
    """Replace the customer's personal values by "[erased]" wherever the warehouse holds them.

    The values are only ever in SELECTs; the mutations name rows by key and carry the
    anonymised text, since ClickHouse keeps a mutation's text (`system.mutations`)."""
    whole, addresses = personal_values(warehouse, tenant, customer_id)
    if not whole:
        return
    forms = _number_forms(addresses)
    t = {"t": tenant}
    if forms:
        sql = (
            "SELECT DISTINCT contact_id FROM contacts WHERE tenant = {t:String} AND ani IN {f:Array(String)}"
        )
        ids = [str(r[0]) for r in warehouse.query_rows(sql, {**t, "f": forms})]
        if ids:
            warehouse.command(
                "ALTER TABLE contacts UPDATE ani = {m:String} "
                "WHERE tenant = {t:String} AND contact_id IN {ids:Array(String)}" + _SYNC,
                {**t, "m": ERASED, "ids": ids},
            )
    # whole JSON strings ("Anna" must not touch "Annabelle"), then numbers and emails inside
    # a longer string (a rejection reason naming the number)
    needles = sorted({_json_text(v) for v in whole} | {_json_text(a) for a in forms})
    sql = (
        "SELECT topic, partition, offset, payload FROM raw_events "
        "WHERE tenant = {t:String} AND multiSearchAny(payload, {n:Array(String)})"
    )
    changed: dict[tuple[str, int, int], str] = {}
    for topic, partition, offset, payload in warehouse.query_rows(sql, {**t, "n": needles}):
        new = _anonymised(str(payload), sorted(whole), forms)
        if new != payload:
            changed[(str(topic), int(partition), int(offset))] = new
    if not changed:
        return
    keys = [f"{k[0]}/{k[1]}/{k[2]}" for k in changed]
    warehouse.command(
        "ALTER TABLE raw_events UPDATE payload = transform(concat(topic, '/', toString(partition), '/', "
        "toString(offset)), {k:Array(String)}, {p:Array(String)}, payload) "
        "WHERE tenant = {t:String} AND topic IN {topics:Array(String)} "
        "AND concat(topic, '/', toString(partition), '/', toString(offset)) IN {k:Array(String)}" + _SYNC,
        {**t, "k": keys, "p": list(changed.values()), "topics": sorted({k[0] for k in changed})},
    )
