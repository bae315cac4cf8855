"""The shapes every processor has, and the adapter that turns a decider into a processor.

A **decider** is `initial_state()`, `decide(state, command) -> bodies` (raising `Rejected`
for a state conflict or `Invalid` for input that names what does not exist) and
`evolve(state, event) -> state`, which never validates and never fails.

A **processor** is what the runner drives: `process(state, message) -> (state, outputs)`.
`DeciderProcessor` makes one from a decider: it stamps the decided bodies with envelopes
derived from the command (`schemas.envelope.derive`), folds them with `evolve`, and turns
a `Rejected` into a `CommandRejected` output. Projections that emit (the CDR builder) or
only fold (live stats) implement `process` directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from schemas.envelope import Message, derive
from schemas.system import CommandRejected

__all__ = ["Decider", "DeciderProcessor", "Invalid", "Processor", "Rejected", "S"]

S = TypeVar("S")


class Rejected(Exception):
    """A well-formed command refused in the current state; becomes `CommandRejected`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class Invalid(Exception):
    """Input that is not acceptable at all (unknown agent or queue, bad value): the runner
    dead-letters the record with this reason and goes on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Decider(Protocol[S]):
    @property
    def name(self) -> str: ...

    def initial_state(self) -> S: ...

    def decide(self, state: S, command: Message[Any]) -> Sequence[object]: ...

    def evolve(self, state: S, event: Message[Any]) -> S: ...


class Processor(Protocol[S]):
    # Read-only members, so frozen dataclasses and properties (`DeciderProcessor`) conform.
    @property
    def name(self) -> str:
        """Stable name: the consumer group and the snapshot key."""
        ...

    @property
    def version(self) -> int:
        """Bump when the state's shape changes: older snapshots are then ignored and rebuilt."""
        ...

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input topic names."""
        ...

    @property
    def outputs(self) -> tuple[str, ...]:
        """Topics it writes (dead letters aside): the runner refuses others, replay checks these."""
        ...

    def initial_state(self) -> S: ...

    def process(self, state: S, message: Message[Any]) -> tuple[S, Sequence[Message[Any]]]: ...


@dataclass(frozen=True)
class DeciderProcessor(Generic[S]):
    """A decider driven as a processor: decide, stamp, evolve; rejections become events."""

    decider: Decider[S]
    inputs: tuple[str, ...]
    version: int = 1
    outputs: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.decider.name

    def initial_state(self) -> S:
        return self.decider.initial_state()

    def process(self, state: S, message: Message[Any]) -> tuple[S, Sequence[Message[Any]]]:
        try:
            bodies = self.decider.decide(state, message)
        except Rejected as r:
            rejected = CommandRejected(message.envelope.event_id, message.type, r.code, r.reason)
            return state, (derive(message, rejected, 0),)
        events = tuple(derive(message, body, i) for i, body in enumerate(bodies))
        for event in events:
            state = self.decider.evolve(state, event)
        return state, events
