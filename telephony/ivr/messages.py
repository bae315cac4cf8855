"""What goes into the IVR interpreter (facts from edges) and the effects it asks edges for.

Inputs are facts an edge observed: a DTMF digit, a prompt that finished playing, time
passing (`Tick`; the time is the `now` passed beside it), a lookup's answer or failure,
the caller hanging up. Effects are what an edge must do for the flow: play a prompt,
run an HTTP lookup and feed back the answer, take a voicemail, hang up. Effects are not
events: they carry what edges need (the real lookup URL, the text to speak), while the
events on `cc.ivr-events` (`schemas.ivr`) are the record, with sensitive values masked.
Routing and callbacks are the ACD's commands (`RouteContact`, `RequestCallback`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CallerHungUp",
    "Contact",
    "Digit",
    "HangUp",
    "Input",
    "LeaveVoicemail",
    "LookupAnswered",
    "LookupFailed",
    "PlayPrompt",
    "PromptFinished",
    "StartLookup",
    "Tick",
]


@dataclass(frozen=True, slots=True)
class Contact:
    """The call entering a flow; `attributes` are given by the edge (e.g. language by DNIS)."""

    contact_id: str
    ani: str = ""
    dnis: str = ""
    attributes: tuple[tuple[str, str], ...] = ()


# ---- inputs ----


@dataclass(frozen=True, slots=True)
class Digit:
    digit: str


@dataclass(frozen=True, slots=True)
class PromptFinished:
    play_id: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed; timeouts due at or before `now` fire."""


@dataclass(frozen=True, slots=True)
class LookupAnswered:
    request_id: str
    answer: str
    """The answer's JSON text."""


@dataclass(frozen=True, slots=True)
class LookupFailed:
    request_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    pass


Input = Digit | PromptFinished | Tick | LookupAnswered | LookupFailed | CallerHungUp


# ---- effects ----


@dataclass(frozen=True, slots=True)
class PlayPrompt:
    """Play `file` or speak `text`; report `PromptFinished(play_id)` when done."""

    contact_id: str
    play_id: str
    file: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class StartLookup:
    """Run the HTTP request; report `LookupAnswered` or `LookupFailed` with `request_id`."""

    contact_id: str
    request_id: str
    method: str
    url: str
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class LeaveVoicemail:
    """Play the greeting (if any) and record a message into `box`."""

    contact_id: str
    box: str
    file: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class HangUp:
    """Play the goodbye (if any) and hang up."""

    contact_id: str
    file: str = ""
    text: str = ""
