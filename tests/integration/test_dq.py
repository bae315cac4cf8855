"""The data-quality suite (Great Expectations over chDB): a simulated hour passes every rule,
and each kind of damage written into the warehouse is caught by the rule that names it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.dq import check, render
from analytics.migrations import load
from analytics.sink import WarehouseSink
from analytics.warehouse import open_warehouse
from ccx.cli import main
from ccx.settings import Settings
from schemas.agent import AgentStateChanged
from schemas.cdr import ContactRecord
from schemas.contact import WrapUpCompleted
from schemas.envelope import Envelope, Message
from streams.ports import Record


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("dq")
    result = CliRunner().invoke(main, ["simulate", "--data-dir", str(data), "--duration", "1h", "--json"])
    assert result.exit_code == 0, result.output
    return data


def _cdr(contact_id: str, **changes: object) -> ContactRecord:
    t = 1_767_600_000_000
    values: dict[str, object] = dict(
        contact_id=contact_id, queue_id="sales", channel="voice", ani="+1202", dnis="+1800",
        priority=0, arrived_at=t, queued_at=t + 1_000, answered_at=t + 5_000, ended_at=t + 60_000,
        finished_at=t + 70_000, outcome="answered", end_party="caller", agent_id="a01", offers=1,
        wait_ms=4_000, talk_ms=55_000, hold_ms=0, holds=0, wrap_up_ms=10_000, disposition="sale",
    )  # fmt: skip
    values.update(changes)
    return ContactRecord(**values)  # type: ignore[arg-type]


def test_a_simulated_hour_passes_every_rule(simulated: Path) -> None:
    with open_warehouse(Settings.from_env(data_dir=str(simulated)).warehouse) as wh:
        results = check(wh)  # type: ignore[arg-type]
    assert results and all(r.success for r in results), render(results)
    checked = {r.dataset: r.checked for r in results}
    assert checked["cdrs"] > 250 and checked["agent_transitions"] > 500 and checked["queue_intervals"] > 0
    code = CliRunner().invoke(main, ["dq", "--data-dir", str(simulated)])
    assert code.exit_code == 0 and "rules hold" in code.output and "FAILED" not in code.output, code.output


def test_damage_is_caught_by_the_rule_that_names_it(tmp_path: Path) -> None:
    t = 1_767_600_000_000
    bodies: list[tuple[str, object]] = [
        ("cc.cdr", _cdr("ok-1")),
        ("cc.contact-events", WrapUpCompleted("ok-1", "a01", "sale", "")),
        ("cc.cdr", _cdr("neg-1", wait_ms=-5, outcome="exploded")),
        ("cc.cdr", _cdr("late-1", answered_at=t + 90_000)),  # answered after it ended
        ("cc.contact-events", WrapUpCompleted("none-1", "a01", "sale", "")),  # finished, no CDR
        ("cc.contact-events", WrapUpCompleted("twice-1", "a01", "sale", "")),
        ("cc.cdr", _cdr("twice-1")),
        ("cc.cdr", _cdr("twice-1", disposition="other")),  # a second CDR for one contact
        ("cc.agent-events", AgentStateChanged("a01", "not_ready", "logged_out", "login", "", "not_ready")),
        ("cc.agent-events", AgentStateChanged("a01", "handling", "available", "", "c9", "available")),  # gap
    ]
    batch = []
    for i, (topic, body) in enumerate(bodies):
        env = Envelope(f"e{i}", "acme", t + i, "c", None, "test")
        batch.append((Record(topic, 0, i, b"acme", b"avro"), Message(env, body)))
    with open_warehouse(f"chdb://{tmp_path}") as wh:
        WarehouseSink(wh).write(batch)  # type: ignore[arg-type]
        results = check(wh)  # type: ignore[arg-type]
    failed = {(r.dataset, r.column): r for r in results if not r.success}
    assert set(failed) == {
        ("cdrs", "wait_ms"),
        ("cdrs", "outcome"),
        ("cdrs", "times_in_order"),
        ("finished_contacts", "cdrs"),
        ("agent_transitions", "chained"),
    }, render(results)
    assert failed[("cdrs", "outcome")].sample == ["exploded"]
    assert failed[("finished_contacts", "cdrs")].unexpected == 2  # none-1 has 0, twice-1 has 2
    assert "5 FAILED" in render(results)


def test_warehouse_migrate_applies_once_then_nothing(tmp_path: Path) -> None:
    first = CliRunner().invoke(main, ["warehouse", "migrate", "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    every = len(load())
    assert "applied now" in first.output and first.output.rstrip().endswith(f"{every} migration(s) applied")
    again = CliRunner().invoke(main, ["warehouse", "migrate", "--data-dir", str(tmp_path)])
    assert again.exit_code == 0 and "applied now" not in again.output
    assert again.output.rstrip().endswith("0 migration(s) applied")
