"""`/v1` commands of the CRM side: tickets, customer profiles and the knowledge base.

Like `api.commands`, each endpoint appends one command and answers with its outcome from
the deciding runner (`tickets`, `customers`, `kb`; `api.gateway.DECIDERS`): 200 and the
events, 409 and the reason, 422 naming what is invalid. Ids of new things (a ticket, a
comment, an attachment) are chosen here, at the edge, as random UUIDs unless given;
authors and raters are the principal, never a field a client could forge.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, require
from api.commands import Name, body_model, send
from schemas import customer_commands as cc
from schemas import kb_commands as kc
from schemas import ticket_commands as tc

__all__ = ["router"]

router = APIRouter(tags=["crm commands"])

Staff = Annotated[Principal, Depends(require("agent", "supervisor", "admin"))]
"""Agents open and work tickets, keep profiles and rate articles."""
Editor = Annotated[Principal, Depends(require("supervisor", "admin"))]
"""Supervisors and admins write the knowledge base and merge customers."""

Text = Annotated[str, Field(max_length=20_000)]

CreateTicketBody = body_model(tc.CreateTicket, "ticket_id")


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=2_000)] = ""


class Assignee(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: Name


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Text


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=20_000)]


AttachmentBody = body_model(tc.AttachToTicket, "ticket_id", "attachment_id")


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    helped: bool
    contact_id: Annotated[str, Field(max_length=200)] = ""


class Merge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duplicate_id: Name
    reason: Annotated[str, Field(max_length=2_000)] = ""


CustomerBody = body_model(cc.DefineCustomer, "customer_id")
ArticleBody = body_model(kc.WriteArticle, "article_id", "author")


# -- tickets -------------------------------------------------------------------------------


@router.post("/v1/tickets")
async def create_ticket(request: Request, body: CreateTicketBody, who: Staff) -> dict[str, Any]:  # type: ignore[valid-type]
    """Open a ticket (from a contact: give `contact_id`; by hand: leave it empty)."""
    return await send(request, who, tc.CreateTicket(str(uuid.uuid4()), **dict(body)))


@router.put("/v1/tickets/{ticket_id}")
async def create_ticket_with_id(
    request: Request,
    ticket_id: Name,
    body: CreateTicketBody,  # type: ignore[valid-type]
    who: Staff,
) -> dict[str, Any]:
    """Open a ticket under an id the client chose (idempotent creation: 409 if it exists)."""
    return await send(request, who, tc.CreateTicket(ticket_id, **dict(body)))


@router.post("/v1/tickets/{ticket_id}/assign")
async def assign_ticket(request: Request, ticket_id: Name, body: Assignee, who: Staff) -> dict[str, Any]:
    """Assign the ticket to someone."""
    return await send(request, who, tc.AssignTicket(ticket_id, body.assignee))


@router.post("/v1/tickets/{ticket_id}/start")
async def start_ticket(request: Request, ticket_id: Name, who: Staff) -> dict[str, Any]:
    """The assignee starts work: in progress."""
    return await send(request, who, tc.StartTicket(ticket_id))


@router.post("/v1/tickets/{ticket_id}/wait-on-customer")
async def wait_on_customer(request: Request, ticket_id: Name, body: Reason, who: Staff) -> dict[str, Any]:
    """Waiting on the customer (the resolution clock pauses, docs/tickets.md)."""
    return await send(request, who, tc.WaitOnCustomer(ticket_id, body.reason))


@router.post("/v1/tickets/{ticket_id}/resolve")
async def resolve_ticket(request: Request, ticket_id: Name, body: Resolution, who: Staff) -> dict[str, Any]:
    """Resolved, with the resolution."""
    return await send(request, who, tc.ResolveTicket(ticket_id, body.resolution))


@router.post("/v1/tickets/{ticket_id}/close")
async def close_ticket(request: Request, ticket_id: Name, body: Reason, who: Staff) -> dict[str, Any]:
    """Closed."""
    return await send(request, who, tc.CloseTicket(ticket_id, body.reason))


@router.post("/v1/tickets/{ticket_id}/reopen")
async def reopen_ticket(request: Request, ticket_id: Name, body: Reason, who: Staff) -> dict[str, Any]:
    """Reopened, with the reason."""
    return await send(request, who, tc.ReopenTicket(ticket_id, body.reason or "reopened"))


@router.post("/v1/tickets/{ticket_id}/escalate")
async def escalate_ticket(request: Request, ticket_id: Name, body: Reason, who: Staff) -> dict[str, Any]:
    """Escalated, with the reason."""
    return await send(request, who, tc.EscalateTicket(ticket_id, body.reason or "escalated"))


@router.post("/v1/tickets/{ticket_id}/comments")
async def comment_ticket(request: Request, ticket_id: Name, body: Comment, who: Staff) -> dict[str, Any]:
    """A comment by the principal."""
    return await send(request, who, tc.CommentOnTicket(ticket_id, str(uuid.uuid4()), who.subject, body.text))


@router.post("/v1/tickets/{ticket_id}/attachments")
async def attach_ticket(
    request: Request,
    ticket_id: Name,
    body: AttachmentBody,  # type: ignore[valid-type]
    who: Staff,
) -> dict[str, Any]:
    """An attachment by reference (a URI the document store serves; no bytes here)."""
    return await send(request, who, tc.AttachToTicket(ticket_id, str(uuid.uuid4()), **dict(body)))


# -- customers -----------------------------------------------------------------------------


@router.put("/v1/customers/{customer_id}")
async def define_customer(
    request: Request,
    customer_id: Name,
    body: CustomerBody,  # type: ignore[valid-type]
    who: Staff,
) -> dict[str, Any]:
    """Create or replace a customer's profile (numbers in any format; E.164 in the events)."""
    return await send(request, who, cc.DefineCustomer(customer_id, **dict(body)))


@router.post("/v1/customers/{customer_id}/merge")
async def merge_customers(request: Request, customer_id: Name, body: Merge, who: Editor) -> dict[str, Any]:
    """Merge `duplicate_id` into this customer."""
    return await send(request, who, cc.MergeCustomers(customer_id, body.duplicate_id, body.reason))


@router.delete("/v1/customers/{customer_id}")
async def erase_customer(
    request: Request,
    customer_id: Name,
    who: Annotated[Principal, Depends(require("admin"))],
    reason: Annotated[str, Query(max_length=2_000, description="The request's reference")] = "",
) -> dict[str, Any]:
    """Erase the customer's personal data (ADR 20): its keys are deleted, so nothing of it can
    be read any more in the log, and `EraseCustomer` makes every read model forget it."""
    eraser = getattr(request.app.state, "erase", None)
    if eraser is None:
        raise HTTPException(503, "this API process cannot erase (no key vault attached)")
    try:
        summary: dict[str, Any] = await asyncio.to_thread(
            eraser, customer_id, reason, process=False, actor=who.actor
        )
    except ValueError as e:  # EraseError: unknown, or merged into another customer
        raise HTTPException(409, {"code": "cannot_erase", "reason": str(e)}) from None
    return summary


# -- knowledge base ------------------------------------------------------------------------


@router.put("/v1/kb/articles/{article_id}")
async def write_article(
    request: Request,
    article_id: Name,
    body: ArticleBody,  # type: ignore[valid-type]
    who: Editor,
) -> dict[str, Any]:
    """Write a new version of an article (author: the principal); publish it to be found."""
    return await send(request, who, kc.WriteArticle(article_id, author=who.subject, **dict(body)))


@router.post("/v1/kb/articles/{article_id}/publish")
async def publish_article(request: Request, article_id: Name, who: Editor) -> dict[str, Any]:
    """Publish the article's latest version."""
    return await send(request, who, kc.PublishArticle(article_id))


@router.post("/v1/kb/articles/{article_id}/unpublish")
async def unpublish_article(request: Request, article_id: Name, body: Reason, who: Editor) -> dict[str, Any]:
    """Take the article out of search."""
    return await send(request, who, kc.UnpublishArticle(article_id, body.reason))


@router.post("/v1/kb/articles/{article_id}/feedback")
async def rate_article(request: Request, article_id: Name, body: Feedback, who: Staff) -> dict[str, Any]:
    """ "This helped" (or not), from the agent who read it, for the contact in hand."""
    return await send(
        request, who, kc.RateArticle(article_id, body.helped, who.agent_id or who.subject, body.contact_id)
    )
