"""The ticket read model: the tickets decider's own state served by pure queries — a
ticket's view, filters, a customer's open tickets and the screen pop's merge with the
customer directory's list."""

from __future__ import annotations

import pytest

from processors.ticket_queries import find_tickets, get_ticket, open_ticket_views, open_tickets_for, view
from processors.tickets import TicketState
from schemas.commands import Tick
from schemas.ticket_commands import (
    AssignTicket,
    AttachToTicket,
    CommentOnTicket,
    CreateTicket,
    ResolveTicket,
    StartTicket,
)
from tests.unit.test_tickets import T0, Run


def populated() -> TicketState:
    run = Run()
    run(CreateTicket("k1", "Router down", "", "network", "P1", "tech", "cu1", "c1"), at=0)
    run(CreateTicket("k2", "Invoice wrong", "", "billing", "P3", "billing", "cu1", "c2"), at=1000)
    run(CreateTicket("k3", "Other", "", "misc", "P4", "tech", "cu2", ""), at=2000)
    run(AssignTicket("k1", "a1"), at=3000)
    run(CommentOnTicket("k1", "n1", "a1", "rebooted"), at=4000)
    run(CommentOnTicket("k1", "n2", "a1", "still down"), at=5000)
    run(AttachToTicket("k1", "f1", "s3://b/log.txt", "log.txt", "text/plain", 10), at=5500)
    run(AssignTicket("k2", "a2"), at=6000)
    run(StartTicket("k2"), at=7000)
    run(ResolveTicket("k2", "credited"), at=8000)
    run(Tick(), at=4 * 3600_000 + 1)  # k1 (P1) misses its 4 h resolution SLA
    return run.state


def test_a_view_shows_status_assignee_due_times_breaches_and_comments() -> None:
    k1 = get_ticket(populated(), "t1", "k1")
    assert k1 is not None
    v = view(k1)
    assert v["status"] == "assigned" and v["assignee"] == "a1" and v["customer_id"] == "cu1"
    assert (v["title"], v["category"], v["department"], v["contact_id"]) == (
        "Router down",
        "network",
        "tech",
        "c1",
    )
    assert v["comments"] == 2 and v["attachments"] == 1 and v["created_at"] == T0
    assert v["respond_due_at"] == 0  # met by the assignment
    assert v["resolve_due_at"] == T0 + 4 * 3600_000 and v["breached"] == ["resolution"]
    assert v["escalation_level"] == 1 and v["open"] is True
    assert v["updated_at"] == T0 + 4 * 3600_000 + 1
    assert "notify_to" not in v


def test_filters_combine_and_list_newest_first() -> None:
    state = populated()
    ids = lambda **f: [t.ticket_id for t in find_tickets(state, "t1", **f)]  # noqa: E731
    assert ids() == ["k3", "k2", "k1"]
    assert ids(customer_id="cu1") == ["k2", "k1"]
    assert ids(department="tech", status="new") == ["k3"]
    assert ids(assignee="a2", status="resolved") == ["k2"]
    assert ids(contact_id="c1") == ["k1"]
    assert find_tickets(state, "other-tenant") == []
    with pytest.raises(ValueError, match="cannot filter tickets by colour"):
        find_tickets(state, "t1", colour="red")


def test_open_tickets_for_a_customer_leave_out_resolved_ones() -> None:
    state = populated()
    assert [t.ticket_id for t in open_tickets_for(state, "t1", "cu1")] == ["k1"]
    assert open_tickets_for(state, "t1", "") == [] and open_tickets_for(state, "t1", "nobody") == []


def test_the_screen_pop_merge_prefers_the_deciders_view_and_keeps_what_it_does_not_know() -> None:
    state = populated()
    listed = [
        {"ticket_id": "k2", "status": "new", "created_at": T0 + 1000},  # resolved since: dropped
        {"ticket_id": "k9", "status": "new", "created_at": T0 + 9000},  # unknown here: kept
    ]
    merged = open_ticket_views(state, "t1", ["cu1", "cu2"], listed)
    assert [m["ticket_id"] for m in merged] == ["k9", "k3", "k1"]
    assert merged[2]["assignee"] == "a1" and merged[0] == listed[1]
