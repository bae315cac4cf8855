"""Caller geography: the country and region of each caller's number (ANI).

Definition: every contact that arrived in the period (`arrived_at` in `[start, end)`, any
outcome), per tenant, by the country and region of its ANI. The number is read with
Google's libphonenumber data (the `phonenumbers` package, ADR 0011): an E.164 number
(`+…`) that the data calls valid gets its ISO 3166 country code, the country's English name
and the geocoder's area ("Berlin", "Washington D.C.", "New York, NY"); a valid number with
no finer area (mobiles, toll-free) gets region "unknown". Withheld, empty, national-format
(no `+`) and invalid numbers are country, code and region "unknown". `answered` and
`abandoned` (short abandons excluded, as in the queue reports) count the contacts of that
place; `share` is its part of the tenant's contacts.

The SQL does the counting: this module reads the distinct ANIs of the period, looks each
one up once, and passes the lookup to ClickHouse as parameter arrays.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import pandas as pd
import phonenumbers
from phonenumbers import geocoder

from analytics.reports.base import Overrides, period_params, source, typed
from analytics.warehouse import Warehouse

__all__ = ["UNKNOWN", "geography", "locate"]

UNKNOWN = "unknown"

_DTYPES = {
    "tenant": "str",
    "country_code": "str",
    "country": "str",
    "region": "str",
    "contacts": "int64",
    "answered": "int64",
    "abandoned": "int64",
    "short_abandoned": "int64",
    "share": "float64",
}

_SOURCE = source("arrived_at")

_ANIS = "SELECT DISTINCT ani FROM (" + _SOURCE + ")"

_SQL = (
    """
SELECT
    tenant,
    transform(ani, {anis:Array(String)}, {codes:Array(String)}, {unknown:String}) AS country_code,
    transform(ani, {anis:Array(String)}, {countries:Array(String)}, {unknown:String}) AS country,
    transform(ani, {anis:Array(String)}, {regions:Array(String)}, {unknown:String}) AS region,
    count() AS contacts,
    countIf(is_answer) AS answered,
    countIf(is_abandon) AS abandoned,
    countIf(is_short) AS short_abandoned,
    contacts / sum(contacts) OVER (PARTITION BY tenant) AS share
FROM ("""
    + _SOURCE
    + """)
GROUP BY tenant, country_code, country, region
ORDER BY tenant, contacts DESC, country, region
"""
)


@lru_cache(maxsize=100_000)
def locate(ani: str) -> tuple[str, str, str]:
    """(ISO country code, country name, region) of an E.164 number; "unknown" for each
    part the number does not tell."""
    try:
        number = phonenumbers.parse(ani.strip(), None)
    except phonenumbers.NumberParseException:
        return UNKNOWN, UNKNOWN, UNKNOWN
    code = phonenumbers.region_code_for_number(number)
    if not code or not phonenumbers.is_valid_number(number):
        return UNKNOWN, UNKNOWN, UNKNOWN
    country = geocoder.country_name_for_number(number, "en") or code
    region = geocoder.description_for_valid_number(number, "en")
    return code, country, region if region and region != country else UNKNOWN


def geography(
    warehouse: Warehouse,
    *,
    tenant: str | None = None,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    short_abandon_s: int | None = None,
) -> pd.DataFrame:
    """One row per (tenant, country, region), the most contacts first."""
    params = {**Overrides(short_abandon_s=short_abandon_s).params(), **period_params(tenant, start, end)}
    located = {}
    for (ani,) in warehouse.query_rows(_ANIS, params):
        place = locate(str(ani))
        if place[0] != UNKNOWN:
            located[str(ani)] = place
    params |= {
        "unknown": UNKNOWN,
        "anis": list(located),
        "codes": [p[0] for p in located.values()],
        "countries": [p[1] for p in located.values()],
        "regions": [p[2] for p in located.values()],
    }
    return typed(warehouse.query_df(_SQL, params), _DTYPES)
