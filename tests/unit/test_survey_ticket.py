"""Post-contact survey answers name the contact's ticket: the session's `ticket_id` attribute
(given by the edge, or set by a lookup of the ticket API) is carried by `SurveyAnswered`."""

from __future__ import annotations

from schemas.ivr import SurveyAnswered
from telephony.ivr.interpreter import TICKET_ATTRIBUTE
from telephony.ivr.messages import Contact, Digit, LookupAnswered, StartLookup
from tests.unit.test_ivr_interpreter import C, Call, flow_of

SURVEY = """\
    a: {type: survey, question: csat, prompt: q.wav, next: b}
    b: {type: hangup}
"""


def test_the_ticket_given_by_the_edge_is_on_every_answer() -> None:
    contact = Contact(C.contact_id, C.ani, C.dnis, ((TICKET_ATTRIBUTE, "K-17"),))
    call = Call(flow_of(SURVEY), contact=contact)
    call.feed(Digit("5"))
    assert call.of(SurveyAnswered) == [SurveyAnswered("c1", "f", "csat", 5, "K-17")]


def test_without_a_ticket_the_answer_names_none() -> None:
    call = Call(flow_of(SURVEY))
    call.feed(Digit("2"))
    assert call.of(SurveyAnswered) == [SurveyAnswered("c1", "f", "csat", 2, "")]


def test_a_lookup_of_the_ticket_api_fills_the_ticket() -> None:
    flow = flow_of(
        """\
        t: {type: lookup, url: "https://ccx.example/v1/tickets?contact_id={contact_id}", next: a,
            on_failure: a, map: {ticket_id: "{answer.tickets.0.ticket_id}"}}
        a: {type: survey, question: csat, prompt: q.wav, next: b}
        b: {type: hangup}
    """,
        start_node="t",
    )
    call = Call(flow)
    (lookup,) = call.of(StartLookup)
    assert lookup.url == "https://ccx.example/v1/tickets?contact_id=c1"
    call.feed(LookupAnswered(lookup.request_id, '{"tickets": [{"ticket_id": "K-9"}], "count": 1}'))
    call.feed(Digit("4"))
    assert call.of(SurveyAnswered) == [SurveyAnswered("c1", "f", "csat", 4, "K-9")]
