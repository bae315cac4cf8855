"""IVR events (public topic `cc.ivr-events`): what a caller did in an IVR flow. Past-tense names.

The IVR interpreter (`telephony.ivr.interpreter`) emits them. A contact's IVR session
is `IvrStarted`, then for every node it passes one `IvrNodeEntered` and exactly one
`IvrNodeLeft` (with the exit taken: "digit", "timeout", "invalid", "success", "failure",
"hangup", …), and finally one `IvrEnded` with the result ("routed", "hung_up",
"voicemail", "callback" or "completed"). Node-visit reports count the entered/left pairs;
containment counts the sessions that ended without reaching a route (or callback) node.

Digits collected by a node marked `sensitive` (card numbers, PINs) are never written:
`digits` is then "***", and a lookup URL carrying them is written with "***" in their place.
"""

from __future__ import annotations

from dataclasses import dataclass

# `IvrAttribute` is a nested record, not a message type: it stays out of `__all__`, which
# the catalog reads.
__all__ = [
    "IvrEnded",
    "IvrLookupAnswered",
    "IvrLookupRequested",
    "IvrNodeEntered",
    "IvrNodeLeft",
    "IvrStarted",
    "SurveyAnswered",
]


@dataclass(frozen=True, slots=True)
class IvrAttribute:
    """One contact attribute (name = value) an IVR node set."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class IvrStarted:
    """The contact entered IVR flow `flow_id` at `flow_version`."""

    contact_id: str
    flow_id: str
    flow_version: int
    ani: str = ""
    dnis: str = ""


@dataclass(frozen=True, slots=True)
class IvrNodeEntered:
    """The contact entered a node; `visit` counts its entries to this node (1 the first time)."""

    contact_id: str
    flow_id: str
    node_id: str
    node_type: str
    visit: int


@dataclass(frozen=True, slots=True)
class IvrNodeLeft:
    """The contact left a node by `exit` for `next_node` ("" when the flow ended there).
    `digits` are the digits that decided the exit ("" if none, "***" for a sensitive node)."""

    contact_id: str
    flow_id: str
    node_id: str
    node_type: str
    exit: str
    next_node: str = ""
    digits: str = ""


@dataclass(frozen=True, slots=True)
class IvrLookupRequested:
    """A lookup node asked an edge for an HTTP lookup; the answer comes back under `request_id`.
    `url` is as sent, except that sensitive attributes read "***"."""

    contact_id: str
    flow_id: str
    node_id: str
    request_id: str
    method: str
    url: str


@dataclass(frozen=True, slots=True)
class IvrLookupAnswered:
    """The lookup `request_id` ended: `ok` with the `attributes` it set, or failed with `reason`
    (the edge's error, "timeout" or "answer is not JSON")."""

    contact_id: str
    flow_id: str
    node_id: str
    request_id: str
    ok: bool
    reason: str = ""
    attributes: tuple[IvrAttribute, ...] = ()


@dataclass(frozen=True, slots=True)
class SurveyAnswered:
    """The caller answered survey `question` of flow `flow_id` with `score` 1 to 5 (CSAT).
    `ticket_id` is the ticket the contact raised (the session's `ticket_id` attribute, given
    by the edge or set by a lookup of `GET /v1/tickets?contact_id=`); "" when it has none."""

    contact_id: str
    flow_id: str
    question: str
    score: int
    ticket_id: str = ""


@dataclass(frozen=True, slots=True)
class IvrEnded:
    """The contact's IVR session ended at `node_id` with `result`: "routed" (to a queue),
    "callback", "voicemail", "completed" (a hangup node) or "hung_up" (the caller)."""

    contact_id: str
    flow_id: str
    result: str
    node_id: str
