"""given / when / then for deciders.

    given(DefineQueue("q1", "Sales"), at(5_000), RouteContact("c1", "q1"))
        .when(HangUpContact("c1", "caller"), at=9_000)
        .then(ContactEnded("c1", "q1", "abandoned", "caller", "", 4_000))

The history may hold events (folded with `evolve`) and, to keep scenarios short, commands
(decided, and their events folded), in order. `at(ms)` sets the clock for what follows;
`when(command, at=ms)` decides one command and `then(*events)`, `rejected(code)` or
`invalid(text)` checks the outcome. `run(*items)` drives the ACD through commands and
returns every decided event as a message, for the processors downstream of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from processors.acd import ACD
from processors.decider import Decider, Invalid, Rejected
from schemas import commands
from schemas.envelope import Envelope, Message, derive

__all__ = ["Given", "Outcome", "at", "given", "run"]

_COMMANDS = {getattr(commands, n) for n in commands.__all__}


@dataclass(frozen=True)
class at:
    """Set the scenario clock (ms) for the items that follow."""

    ms: int


def _message(body: object, tenant: str, now: int, n: int) -> Message[Any]:
    return Message(Envelope(f"m{n}", tenant, now, f"corr{n}"), body)


class Given:
    def __init__(self, decider: Decider[Any], items: tuple[object, ...], tenant: str) -> None:
        self.decider, self.tenant = decider, tenant
        self.state = decider.initial_state()
        self.now = 0
        self.n = 0
        self.history: list[object] = []
        for item in items:
            if isinstance(item, at):
                self.now = item.ms
                continue
            msg = self._next(item)
            if type(item) in _COMMANDS:
                for i, body in enumerate(decider.decide(self.state, msg)):
                    self.state = decider.evolve(self.state, derive(msg, body, i))
                    self.history.append(body)
            else:
                self.state = decider.evolve(self.state, msg)
                self.history.append(item)

    def _next(self, body: object) -> Message[Any]:
        self.n += 1
        return _message(body, self.tenant, self.now, self.n)

    def when(self, command: object, at: int | None = None) -> Outcome:
        if at is not None:
            self.now = at
        msg = self._next(command)
        try:
            events = list(self.decider.decide(self.state, msg))
        except (Rejected, Invalid) as e:
            return Outcome(self, msg, None, e)
        return Outcome(self, msg, events, None)


class Outcome:
    def __init__(
        self, g: Given, msg: Message[Any], events: list[object] | None, error: Exception | None
    ) -> None:
        self.given, self.msg, self._events, self.error = g, msg, events, error

    @property
    def events(self) -> list[object]:
        assert self.error is None, f"expected events, got {self.error!r}"
        assert self._events is not None
        return self._events

    @property
    def state(self) -> Any:
        """The state after folding the decided events."""
        state = self.given.state
        for i, body in enumerate(self.events):
            state = self.given.decider.evolve(state, derive(self.msg, body, i))
        return state

    def then(self, *expected: object) -> Outcome:
        assert self.events == list(expected), "\n".join(["got:", *map(repr, self.events)])
        return self

    def then_types(self, *names: str) -> Outcome:
        assert [type(e).__name__ for e in self.events] == list(names)
        return self

    def rejected(self, code: str) -> Rejected:
        assert isinstance(self.error, Rejected), (
            f"expected Rejected({code!r}), got {self._events or self.error!r}"
        )
        assert self.error.code == code, self.error
        return self.error

    def invalid(self, text: str) -> Invalid:
        assert isinstance(self.error, Invalid), f"expected Invalid, got {self._events or self.error!r}"
        assert text in self.error.reason, self.error.reason
        return self.error


def given(*items: object, decider: Decider[Any] | None = None, tenant: str = "t1") -> Given:
    return Given(decider or ACD(), items, tenant)


def run(*items: object, tenant: str = "t1") -> list[Message[Any]]:
    """Decide `items` (commands and `at` markers) with the ACD; the decided event messages.

    Rejected and invalid commands are skipped, as the runner would."""
    acd = ACD()
    state = acd.initial_state()
    now, out = 0, []
    for n, item in enumerate(items):
        if isinstance(item, at):
            now = item.ms
            continue
        msg = _message(item, tenant, now, n)
        try:
            bodies = acd.decide(state, msg)
        except (Rejected, Invalid):
            continue
        for i, body in enumerate(bodies):
            event = derive(msg, body, i)
            state = acd.evolve(state, event)
            out.append(event)
    return out
