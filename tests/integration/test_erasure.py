"""Erasure end to end (issue 8, docs/adr/0020): after `ccx customers erase`, no personal value
of the customer is readable in the log file, the customer directory (live and rebuilt) or the
warehouse, and the reports' counts are the same as before.

The data: a simulated half hour (`ccx simulate`, tenant "demo", personal fields sealed by the
bootstrap's serde), then two customers defined on the numbers of two repeat callers of that
run, a ticket of the first, the customers processor and the sink run, then the first erased.
"""

from __future__ import annotations

import pickle
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from analytics.warehouse import Warehouse
from ccx.bootstrap import Pipeline, open_pipeline
from ccx.customers import EraseError, erase_customer
from ccx.reports import render_report
from ccx.settings import Settings
from processors.customer_directory import DirectoryState, fold, screen_pop
from processors.customers import customers_processor
from schemas.cdr import ContactRecord
from schemas.customer_commands import DefineCustomer
from schemas.envelope import Envelope, Message
from schemas.personal import ERASED
from schemas.tickets import TicketCreated
from streams.tail import read_all

pytestmark = pytest.mark.slow

TENANT = "demo"
NAME = "Zoë Erasmus-Testperson"
EMAIL = "zoe.erasmus@example.org"
TITLE = "Zoë Erasmus-Testperson wants her refund"
DIRECTORY_TOPICS = ["cc.customer-events", "cc.contact-events", "cc.cdr", "cc.ticket-events"]
REPORTS = ("queue-intervals", "agent-performance")


@dataclass
class World:
    settings: Settings
    pipeline: Pipeline
    phone: str
    other_phone: str
    calls: int
    """CDRs from the erased customer's number."""
    live: DirectoryState
    """The directory folded before the erasure and then fed the new records (the live one)."""
    reports: dict[str, str]
    """Each report (CSV) before the erasure."""

    @property
    def warehouse(self) -> Warehouse:
        assert self.pipeline.warehouse is not None
        return self.pipeline.warehouse


def _msg(event_id: str, body: object, at: int) -> Message[Any]:
    return Message(Envelope(event_id, TENANT, at, event_id, None, "test"), body)


def _fold(state: DirectoryState, messages: list[tuple[Any, Message[Any]]]) -> DirectoryState:
    for _r, m in messages:
        state = fold(state, m)
    return state


def _report(wh: Warehouse, name: str) -> str:
    return str(render_report(wh, name, fmt="csv", tenant=TENANT))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("erasure")
    done = subprocess.run(
        [sys.executable, "-m", "ccx.cli", "simulate", "--data-dir", str(data), "--duration", "30m", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    settings = Settings.from_env(data_dir=str(data), tenant=TENANT)
    pipeline = open_pipeline(
        settings, runners=("customers", "sink"), processors={"customers": customers_processor()}
    )
    try:
        cdrs = [m for _r, m in read_all(pipeline.log, pipeline.serde, ["cc.cdr"])]
        anis = Counter(m.body.ani for m in cdrs if m.body.ani.startswith("+"))
        (phone, calls), (other, _n) = anis.most_common(2)
        at = max(m.envelope.occurred_at for m in cdrs) + 1
        contact = next(m.body.contact_id for m in cdrs if m.body.ani == phone)
        ticket = TicketCreated("t-1", TITLE, f"call {EMAIL}", "billing", "high", "", "k1", contact, 0, 0)
        pipeline.log.append(
            [
                pipeline.serde.out(_msg("def-1", DefineCustomer("k1", (NAME,), (phone,), (EMAIL,)), at)),
                pipeline.serde.out(_msg("def-2", DefineCustomer("k2", ("Other Person",), (other,)), at)),
                pipeline.serde.out(_msg("tkt-1", ticket, at)),
            ]
        )
        pipeline.run_until_idle()
        live = _fold(DirectoryState(), read_all(pipeline.log, pipeline.serde, DIRECTORY_TOPICS))
        reports = {name: _report(pipeline.warehouse, name) for name in REPORTS}  # type: ignore[arg-type]
        before = screen_pop(live, TENANT, phone)
        assert before["customer"]["name"] == NAME and len(before["contacts"]) == min(calls, 5)
        seen = {r.offset for r, _m in read_all(pipeline.log, pipeline.serde, DIRECTORY_TOPICS)}
        summary = erase_customer(settings, "k1", "request 42", process=False, now_ms=at + 1)
        # the customer's key and its number's (the ANIs); the email never was an address of
        # a message of its own (no notification was sent), so it has no key to delete
        assert summary["keys_erased"] == 2
        pipeline.serde.shredder.vault.refresh()  # type: ignore[union-attr]  # another vault erased
        pipeline.run_until_idle()
        new = [(r, m) for r, m in read_all(pipeline.log, pipeline.serde, ["cc.customer-events"])]
        live = _fold(live, [(r, m) for r, m in new if m.type == "CustomerErased"])
        assert seen  # the live directory saw everything before; it now folded the erasure
        yield World(settings, pipeline, phone, other, calls, live, reports)
    finally:
        pipeline.close()


def _personal(world: World) -> tuple[str, ...]:
    return (NAME, EMAIL, world.phone, "Erasmus")


def test_the_log_file_never_held_the_values(world: World) -> None:
    db = sqlite3.connect(world.settings.log_path)
    try:
        values = [bytes(v) for (v,) in db.execute("SELECT value FROM records")]
    finally:
        db.close()
    assert len(values) > 1000
    for text in _personal(world):
        needle = text.encode()
        assert not any(needle in v for v in values), f"{text!r} in a record of the log"


def test_decoding_yields_the_marker_and_nothing_else_changes(world: World) -> None:
    cdrs = [m.body for _r, m in read_all(world.pipeline.log, world.pipeline.serde, ["cc.cdr"])]
    assert isinstance(cdrs[0], ContactRecord)
    assert sum(c.ani == ERASED for c in cdrs) == world.calls
    assert not any(c.ani == world.phone for c in cdrs)
    assert any(c.ani == world.other_phone for c in cdrs)  # another caller's number still reads
    profiles = [
        m.body for _r, m in read_all(world.pipeline.log, world.pipeline.serde, ["cc.customer-events"])
    ]
    erased = next(p for p in profiles if p.customer_id == "k1")
    assert erased.names == (ERASED,) and erased.phones == (ERASED,) and erased.emails == (ERASED,)
    assert any(getattr(p, "names", ()) == ("Other Person",) for p in profiles)
    tickets = [m.body for _r, m in read_all(world.pipeline.log, world.pipeline.serde, ["cc.ticket-events"])]
    assert [(t.title, t.description) for t in tickets if isinstance(t, TicketCreated)] == [(ERASED, ERASED)]


@pytest.mark.parametrize("which", ["live", "rebuilt"])
def test_the_customer_directory_holds_no_trace(world: World, which: str) -> None:
    if which == "live":
        state = world.live
    else:
        state = _fold(DirectoryState(), read_all(world.pipeline.log, world.pipeline.serde, DIRECTORY_TOPICS))
    blob = pickle.dumps(state)  # what a snapshot of it would hold
    for text in _personal(world):
        assert text.encode() not in blob, f"{text!r} in the {which} directory"
    pop = screen_pop(state, TENANT, world.phone)
    assert pop["customer"] is None and pop["contacts"] == [] and pop["number"] == world.phone
    assert screen_pop(state, TENANT, world.other_phone)["customer"]["customer_id"] == "k2"
    assert state.tenant(TENANT).people.customers["k1"].erased


def _string_tables(wh: Warehouse) -> dict[str, list[str]]:
    rows = wh.query_rows(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase() "
        "AND type LIKE '%String%' AND table IN (SELECT name FROM system.tables "
        "WHERE database = currentDatabase() AND engine LIKE '%MergeTree%')"
    )
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(str(table), []).append(str(column))
    return tables


def test_the_warehouse_holds_no_row_with_the_values(world: World) -> None:
    wh = world.warehouse
    tables = _string_tables(wh)
    assert {"contacts", "raw_events"} <= set(tables)
    for table, columns in tables.items():
        for text in _personal(world):
            where = " OR ".join(f"position(toString(`{c}`), {{x:String}}) > 0" for c in columns)
            found = wh.query_rows(f"SELECT count() FROM {table} WHERE {where}", {"x": text})[0][0]
            assert found == 0, f"{text!r} in {table}"
    erased = "SELECT count() FROM contacts FINAL WHERE tenant = {t:String} AND ani = {m:String}"
    assert wh.query_rows(erased, {"t": TENANT, "m": ERASED})[0][0] == world.calls
    kept = "SELECT count() FROM contacts FINAL WHERE tenant = {t:String} AND ani = {p:String}"
    assert wh.query_rows(kept, {"t": TENANT, "p": world.other_phone})[0][0] > 0


@pytest.mark.parametrize("name", REPORTS)
def test_reports_are_unchanged(world: World, name: str) -> None:
    after = _report(world.warehouse, name)
    assert after == world.reports[name]
    assert len(after.splitlines()) > 2


def test_erasing_again_or_a_stranger(world: World) -> None:
    again = erase_customer(world.settings, "k1", "twice", process=False, now_ms=1)
    assert again["keys_erased"] == 0
    with pytest.raises(EraseError, match="'nobody' is unknown in tenant 'demo'"):
        erase_customer(world.settings, "nobody", process=False)
    world.pipeline.run_until_idle()
    profiles = [
        m.type for _r, m in read_all(world.pipeline.log, world.pipeline.serde, ["cc.customer-events"])
    ]
    assert profiles.count("CustomerErased") == 1  # the second request decided nothing


def test_no_file_of_the_log_or_the_vault_holds_the_values(world: World) -> None:
    """Every byte beside the warehouse (log, its WAL and snapshots, the key vault): nothing
    was ever written in plaintext, and the vault's deleted subjects were overwritten."""
    files = [f for f in world.settings.data_dir.iterdir() if f.is_file()]
    assert world.settings.key_vault_path in files and world.settings.log_path in files
    for f in files:
        content = f.read_bytes()
        for text in _personal(world):
            assert text.encode() not in content, f"{text!r} in {f.name}"
