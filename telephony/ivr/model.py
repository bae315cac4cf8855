"""The IVR flow model: a flow and its node types as frozen dataclasses.

A `Flow` is what `telephony.ivr.flow.parse_flow` makes of a valid YAML file (docs/ivr.md):
an id, a version, the start node and the nodes in file order. Text fields marked
"template" may name contact attributes as `{name}` (`telephony.ivr.template`). The
interpreter (`telephony.ivr.interpreter`) runs a flow; nothing here does anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

__all__ = [
    "TERMINAL",
    "Branch",
    "Callback",
    "Collect",
    "Flow",
    "Goto",
    "Hangup",
    "Hours",
    "Lookup",
    "Menu",
    "Node",
    "Play",
    "Prompt",
    "Route",
    "SetAttributes",
    "Survey",
    "Voicemail",
]


@dataclass(frozen=True, slots=True)
class Prompt:
    """A recorded prompt `file` or a text-to-speech `tts` text (both templates)."""

    file: str = ""
    tts: str = ""


@dataclass(frozen=True, slots=True)
class Play:
    type: ClassVar[str] = "play"
    id: str
    prompt: Prompt
    next: str


@dataclass(frozen=True, slots=True)
class Menu:
    """Play `prompt`, then take one digit of `options`; after `retries` re-prompts of an
    invalid digit or of `timeout_s` without one, go to `fallback`."""

    type: ClassVar[str] = "menu"
    id: str
    prompt: Prompt
    options: tuple[tuple[str, str], ...]
    fallback: str
    timeout_s: int = 5
    retries: int = 2
    invalid_prompt: Prompt | None = None
    timeout_prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class Collect:
    """Collect `min_length`..`max_length` digits (ended by `terminator`, by the maximum, or by
    `timeout_s` without a digit), check them against `pattern` and store them in `attribute`."""

    type: ClassVar[str] = "collect"
    id: str
    prompt: Prompt
    attribute: str
    next: str
    fallback: str
    min_length: int = 1
    max_length: int = 16
    terminator: str = "#"
    timeout_s: int = 5
    retries: int = 2
    pattern: str = ""
    sensitive: bool = False
    invalid_prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """Ask an edge for an HTTP lookup of `url` (template); map the JSON answer into attributes
    with `map` (attribute -> template over `{answer.path}`); `next` on success else `on_failure`."""

    type: ClassVar[str] = "lookup"
    id: str
    url: str
    next: str
    on_failure: str
    method: str = "GET"
    timeout_s: int = 3
    map: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SetAttributes:
    type: ClassVar[str] = "set"
    id: str
    values: tuple[tuple[str, str], ...]
    next: str


@dataclass(frozen=True, slots=True)
class Branch:
    """Go to the node of the case equal to `value` (template), else to `default`."""

    type: ClassVar[str] = "branch"
    id: str
    value: str
    cases: tuple[tuple[str, str], ...]
    default: str


@dataclass(frozen=True, slots=True)
class Hours:
    """`open` during [`start_min`, `end_min`) local time on `days` (0 = Monday) in `timezone`,
    except on `holidays`; else `closed`. The time is the input's, so replays agree."""

    type: ClassVar[str] = "hours"
    id: str
    timezone: str
    days: tuple[int, ...]
    start_min: int
    end_min: int
    open: str
    closed: str
    holidays: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Goto:
    """Jump to `next` at most `limit` times per contact, then to `fallback`: the only way back."""

    type: ClassVar[str] = "goto"
    id: str
    next: str
    limit: int
    fallback: str


@dataclass(frozen=True, slots=True)
class Route:
    """Route the contact to `queue` with `priority` and `skills` (skill -> level), all templates."""

    type: ClassVar[str] = "route"
    id: str
    queue: str
    priority: str = "0"
    skills: tuple[tuple[str, str], ...] = ()
    prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class Voicemail:
    type: ClassVar[str] = "voicemail"
    id: str
    box: str
    prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class Callback:
    """Queue the contact in `queue` and turn it into a callback to `number` ("" = the caller)."""

    type: ClassVar[str] = "callback"
    id: str
    queue: str
    number: str = ""
    priority: str = "0"
    prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class Survey:
    """Ask survey `question` (play `prompt`), take a score 1-5, then go to `next` either way."""

    type: ClassVar[str] = "survey"
    id: str
    question: str
    prompt: Prompt
    next: str
    timeout_s: int = 5
    retries: int = 1


@dataclass(frozen=True, slots=True)
class Hangup:
    type: ClassVar[str] = "hangup"
    id: str
    prompt: Prompt | None = None


Node = (
    Play
    | Menu
    | Collect
    | Lookup
    | SetAttributes
    | Branch
    | Hours
    | Goto
    | Route
    | Voicemail
    | Callback
    | Survey
    | Hangup
)
TERMINAL = (Route, Voicemail, Callback, Hangup)
"""Node types that end the IVR session."""


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    start: str
    nodes: tuple[Node, ...]
    by_id: dict[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {n.id: n for n in self.nodes})

    @property
    def sensitive(self) -> frozenset[str]:
        """Attributes collected by sensitive nodes: never written to an event."""
        return frozenset(n.attribute for n in self.nodes if isinstance(n, Collect) and n.sensitive)
