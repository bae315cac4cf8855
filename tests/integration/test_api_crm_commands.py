"""The CRM commands over `/v1` on a real pipeline: tickets through their workflow, customer
profiles, knowledge-base articles and "this helped" feedback, each a round trip through
its own decider (tickets, customers, kb), with their rejections and permission checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.api_pipeline import Api, running_api

CRM = ("acd", "stats", "customers", "customer-directory", "tickets", "kb", "kb-search")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path, CRM) as a:
        yield a


def _types(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["events"]]


def test_a_ticket_from_a_call_through_its_workflow(api: Api) -> None:
    r = api.call("PUT", "/v1/customers/c1", "a1", {"names": ["Alice Adler"], "phones": ["+49 30 1234567"]})
    assert "CustomerDefined" in _types(r)
    body = {
        "title": "Card blocked",
        "description": "Card blocked after three wrong PINs",
        "category": "cards",
        "priority": "P2",
        "department": "cards",
        "customer_id": "c1",
        "contact_id": "k1",
    }
    r = api.call("POST", "/v1/tickets", "a1", body)
    assert "TicketCreated" in _types(r)
    created = r.json()["events"][0]
    ticket = created["body"]["ticket_id"]
    assert created["actor"] == "agent:a1"
    assert "TicketAssigned" in _types(
        api.call("POST", f"/v1/tickets/{ticket}/assign", "a1", {"assignee": "a1"})
    )
    assert "TicketStatusChanged" in _types(api.call("POST", f"/v1/tickets/{ticket}/start", "a1"))
    r = api.call("POST", f"/v1/tickets/{ticket}/comments", "a1", {"text": "called back"})
    comment = r.json()["events"][0]["body"]
    assert comment["author"] == "a1" and comment["text"] == "called back"
    r = api.call(
        "POST",
        f"/v1/tickets/{ticket}/attachments",
        "a1",
        {"uri": "s3://docs/1.pdf", "name": "letter.pdf", "media_type": "application/pdf", "size_bytes": 1234},
    )
    assert "TicketAttachmentAdded" in _types(r)
    assert "TicketStatusChanged" in _types(
        api.call("POST", f"/v1/tickets/{ticket}/resolve", "a1", {"resolution": "unblocked"})
    )
    # The workflow refuses what does not follow: a resolved ticket cannot be started again.
    r = api.call("POST", f"/v1/tickets/{ticket}/start", "a1")
    assert r.status_code == 409, r.text
    assert r.json()["detail"]["code"] and r.json()["detail"]["reason"]
    assert "TicketStatusChanged" in _types(api.call("POST", f"/v1/tickets/{ticket}/close", "a1", {}))
    assert "TicketStatusChanged" in _types(
        api.call("POST", f"/v1/tickets/{ticket}/reopen", "a1", {"reason": "card blocked again"})
    )


def test_ticket_input_is_checked(api: Api) -> None:
    bad = {"title": "x", "description": "", "category": "c", "priority": "P9", "department": "d"}
    r = api.call("POST", "/v1/tickets", "a1", bad)
    assert r.status_code == 422 and "P9" in r.text
    r = api.call("POST", "/v1/tickets", "a1", {"title": "x"})
    assert r.status_code == 422 and "priority" in r.text
    assert api.call("POST", "/v1/tickets", "analyst", {**bad, "priority": "P1"}).status_code == 403
    r = api.call("POST", "/v1/tickets/nope/start", "a1")
    assert r.status_code in (409, 422) and "nope" in r.text


def test_articles_are_written_published_found_and_rated(api: Api) -> None:
    article = {
        "title": "Card blocked",
        "body": "Unblock a card after wrong PINs in the app.",
        "category": "cards",
    }
    assert api.call("PUT", "/v1/kb/articles/kb1", "a1", article).status_code == 403  # agents do not write
    r = api.call("PUT", "/v1/kb/articles/kb1", "sup", article)
    written = r.json()["events"][0]
    assert written["body"]["author"] == "sue"
    assert "ArticlePublished" in _types(api.call("POST", "/v1/kb/articles/kb1/publish", "sup"))
    r = api.call("POST", "/v1/kb/articles/kb1/feedback", "a1", {"helped": True, "contact_id": "k1"})
    rated = r.json()["events"][0]["body"]
    assert rated["agent_id"] == "a1" and rated["helped"] is True
    assert api.call("POST", "/v1/kb/articles/zz/feedback", "a1", {"helped": True}).status_code in (409, 422)


def test_customers_merge(api: Api) -> None:
    api.call("PUT", "/v1/customers/c1", "a1", {"names": ["Alice"], "phones": ["+4930111"]})
    api.call("PUT", "/v1/customers/c2", "a1", {"names": ["A. Adler"], "emails": ["alice@example.com"]})
    assert api.call("POST", "/v1/customers/c1/merge", "a1", {"duplicate_id": "c2"}).status_code == 403
    r = api.call("POST", "/v1/customers/c1/merge", "sup", {"duplicate_id": "c2", "reason": "same person"})
    merged = r.json()["events"][0]
    assert merged["type"] == "CustomersMerged" and "alice@example.com" in merged["body"]["emails"]
    r = api.call("PUT", "/v1/customers/c3", "a1", {"names": []})
    assert r.status_code == 422


def test_an_admin_erases_a_customer(api: Api) -> None:
    api.call("PUT", "/v1/customers/c1", "a1", {"names": ["Alice Adler"], "phones": ["+4930111222"]})
    assert api.call("DELETE", "/v1/customers/c1", "a1").status_code == 403
    r = api.call("DELETE", "/v1/customers/nobody", "admin")
    assert r.status_code == 409 and "nobody" in r.text
    r = api.call("DELETE", "/v1/customers/c1?reason=GDPR-42", "admin")
    assert r.status_code == 200, r.text
    assert r.json()["keys_erased"] >= 1  # the profile's key (its number has none: it never called)
    # The customers decider has forgotten the profile: nothing can be merged into it any more.
    api.call("PUT", "/v1/customers/c2", "a1", {"names": ["A. Adler"]})
    for _ in range(200):
        again = api.call("POST", "/v1/customers/c1/merge", "sup", {"duplicate_id": "c2"})
        if again.status_code == 409:
            break
    assert again.status_code == 409 and again.json()["detail"]["code"] == "customer_erased"
