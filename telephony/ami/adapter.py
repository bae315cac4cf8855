"""The AMI edge's glue: frames in, `Message`s for the log out.

Each parsed frame goes through the `AmiMapper`; each fact becomes a `Message` for
`cc.telephony` and each frame that could not be parsed or understood becomes a `DeadLetter`
message (the body type `schemas.system` defines and `streams.deadletter` fills for the
processors; here the "source" is the AMI stream, not a topic). The adapter appends nothing
itself: whoever drives it (`ccx` for a live switch, `ccx ami replay` for a file) decides
where the messages go.

Envelopes are deterministic, so replaying a recording gives byte-identical messages: a
fact's event id is derived from the tenant, its call and its index within the call; a dead
letter's from the stream and the frame's sequence number. `occurred_at` is the AMI
`Timestamp` when the switch sends one (enable `timestampevents` in manager.conf), else the
`clock` the adapter was given (none: 0, as for a recording without timestamps).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from schemas.envelope import Envelope, Message, derive_event_id
from schemas.system import DeadLetter
from telephony.ami.client import AmiClient, AmiConfig
from telephony.ami.frames import Banner, Frame, FrameError, FrameParser, Item, wire
from telephony.ami.mapper import AmiMapper, Translation

__all__ = ["PROCESSOR", "AdapterStats", "AmiAdapter", "client_for", "correlation_of", "message_json"]

PROCESSOR = "telephony.ami"


def correlation_of(fact: object) -> str:
    """A fact's correlation id: its call, else the queue member it is about."""
    call_id = getattr(fact, "call_id", "")
    if call_id:
        return str(call_id)
    return f"member:{getattr(fact, 'interface', '')}"


@dataclass(slots=True)
class AdapterStats:
    """What the adapter did with its input, for logs and the replay summary."""

    frames: int = 0
    facts: int = 0
    skipped: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class AmiAdapter:
    """Translate an AMI stream (bytes, frames or event dicts) into `Message`s.

    It counts facts per call for their event ids, remembering the last `MEMORY` calls
    (a fact of a call older than that would reuse an id: none comes that late).

    `source` names the stream in dead letters (`ami://host:port`, `ami:file.ami`);
    `on_dead_letter(reason, where)` is told of each dead letter (the caller logs it).
    """

    MEMORY = 100_000

    def __init__(
        self,
        tenant: str,
        source: str = "ami",
        *,
        clock: Callable[[], int] | None = None,
        mapper: AmiMapper | None = None,
        on_dead_letter: Callable[[str, int], None] | None = None,
    ) -> None:
        self.tenant = tenant
        self.source = source
        self.mapper = mapper or AmiMapper()
        self.stats = AdapterStats()
        self._clock = clock
        self._parser = FrameParser()
        self._per_call: OrderedDict[str, int] = OrderedDict()  # facts so far, per call (LRU)
        self._seq = 0
        self._on_dead_letter = on_dead_letter

    # -- input ------------------------------------------------------------------------

    def feed_bytes(self, data: bytes) -> list[Message[object]]:
        """Wire bytes, any fragment of the stream."""
        return self.feed_items(self._parser.feed(data))

    def close(self, *, eof_ends_message: bool = True) -> list[Message[object]]:
        """The end of the byte stream (a file's end, or a lost connection)."""
        return self.feed_items(self._parser.close(eof_ends_message=eof_ends_message))

    def feed_items(self, items: Iterable[Item]) -> list[Message[object]]:
        out: list[Message[object]] = []
        for item in items:
            if isinstance(item, Frame):
                out += self.feed_event(item.headers, item.line)
            elif isinstance(item, FrameError):
                self._seq += 1
                out.append(self._dead_letter(item.raw, "MalformedFrame", item.reason, item.line))
            elif isinstance(item, Banner):
                continue
        return out

    def feed_event(self, event: Mapping[str, str], where: int = 0) -> list[Message[object]]:
        """One AMI message as a dict; `where` (its line or index) goes into a dead letter."""
        self._seq += 1
        self.stats.frames += 1
        tr = self.mapper.translate(event)
        out = self._messages(tr.facts)
        if tr.unmapped:
            raw = wire(dict(event))
            out.append(
                self._dead_letter(raw, "UnmappedEvent", f"{event.get('Event', '?')}: {tr.unmapped}", where)
            )
        elif not tr.facts:
            self._skip(tr)
        return out

    def resync(self, channels: Iterable[Mapping[str, str]]) -> list[Message[object]]:
        """Messages for what a fresh `CoreShowChannels` list shows was missed."""
        return self._messages(self.mapper.resync(channels))

    # -- output -----------------------------------------------------------------------

    def _skip(self, tr: Translation) -> None:
        self.stats.skipped += 1
        if tr.skipped.startswith("duplicate"):
            self.stats.duplicates += 1

    def _messages(self, facts: Iterable[object]) -> list[Message[object]]:
        out: list[Message[object]] = []
        for fact in facts:
            corr = correlation_of(fact)
            n = self._per_call.pop(corr, 0)
            self._per_call[corr] = n + 1
            if len(self._per_call) > self.MEMORY:
                self._per_call.popitem(last=False)
            ms = getattr(fact, "ami_time", 0) or (self._clock() if self._clock else 0)
            env = Envelope(
                event_id=derive_event_id(f"{self.tenant}/ami/{corr}", n),
                tenant=self.tenant,
                occurred_at=ms,
                correlation_id=corr,
                causation_id=None,
                actor="switch",
            )
            out.append(Message(env, fact))
        self.stats.facts += len(out)
        return out

    def _dead_letter(self, raw: bytes, error: str, reason: str, where: int) -> Message[object]:
        self.stats.dead_letters += 1
        self.stats.reasons[error] = self.stats.reasons.get(error, 0) + 1
        if self._on_dead_letter is not None:
            self._on_dead_letter(reason, where)
        origin = f"{self.source}/{self._seq}"
        env = Envelope(
            event_id=derive_event_id(f"{PROCESSOR}@{origin}", 0),
            tenant=self.tenant,
            occurred_at=self._clock() if self._clock else 0,
            correlation_id=origin,
            causation_id=None,
            actor="system",
        )
        body = DeadLetter(
            source_topic=self.source,
            source_partition=0,
            source_offset=where,
            key=self.tenant.encode("utf-8"),
            value=raw,
            processor=PROCESSOR,
            error=error,
            reason=reason,
        )
        return Message(env, body)


def message_json(message: Message[object]) -> str:
    """One message as a JSON line: type, envelope and fields (bytes as text, escaped)."""
    body = message.body
    fields = {k: getattr(body, k) for k in body.__slots__}  # type: ignore[attr-defined]
    for k, v in fields.items():
        if isinstance(v, bytes):
            fields[k] = v.decode("utf-8", "backslashreplace")
    env = message.envelope
    return json.dumps(
        {
            "type": message.type,
            "tenant": env.tenant,
            "correlation_id": env.correlation_id,
            "event_id": env.event_id,
            "occurred_at": env.occurred_at,
            **fields,
        },
        ensure_ascii=False,
    )


def client_for(
    adapter: AmiAdapter, config: AmiConfig, sink: Callable[[list[Message[object]]], None]
) -> AmiClient:
    """An `AmiClient` for `config` whose events and resyncs go through `adapter` to `sink`
    (which appends the messages to the log)."""
    return AmiClient(
        config,
        on_items=lambda items: sink(adapter.feed_items(items)),
        on_resync=lambda channels: sink(adapter.resync(channels)),
    )
