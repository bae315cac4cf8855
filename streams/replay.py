"""Replay check: re-decide a processor's whole committed input and compare with the log.

`replay_check` runs the processor from its initial state over every input record up to the
group's committed positions, in the runner's order (`streams.runner.step`: same decoding,
same dead letters), and compares what it produces with what is recorded: the outputs whose
causation id is an input's event id, and the dead letters naming this processor and an
input's position. Outputs are compared per input and per topic, in order; equal bytes
match, and differing bytes still match when they decode to equal messages (a record
written with an older schema). It reads with a throwaway group, so it can run beside the
live runner.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from processors.decider import Processor
from schemas.envelope import Message
from schemas.system import DeadLetter
from streams.ports import EventLog, Record, TopicPartition
from streams.runner import Times, step
from streams.serde import DecodeError, Serde
from streams.tail import read_all
from streams.topics import DEAD_LETTER

__all__ = ["ReplayResult", "decisions", "replay_check"]

_Coord = tuple[str, int, int]
_Out = tuple[str, bytes, bytes]  # topic, key, value


@dataclass(frozen=True, slots=True)
class ReplayResult:
    decisions: int
    """Input records re-decided."""
    mismatches: int
    """Outputs that differ, are missing or were not expected."""
    details: tuple[str, ...]
    """The first few mismatches, readably."""

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


def decisions(log: EventLog, serde: Serde, processor: Processor[Any], topic: str) -> Iterator[Message[Any]]:
    """The processor's decisions on `topic` as the log has them now: the recorded ones when
    its group ever committed, else re-made in memory from its inputs (the same decider over
    the same records in the runner's order, `step`, so the same events). For tools that fold
    the output of an optional runner that may never have run (`ccx kb search`, `ccx
    recordings search`)."""
    if log.committed(processor.name):
        for _r, m in read_all(log, serde, [topic]):
            yield m
        return
    consumer = log.consumer(f"{processor.name}.remake", processor.inputs)
    try:
        consumer.seek({tp: 0 for tp in consumer.positions()})
        state, times = processor.initial_state(), Times()
        while records := consumer.poll(2000, 0.0):
            for record in records:
                state, outs, dead = step(processor, serde, state, record, times)
                if not dead:
                    for out in outs:
                        if out.topic == topic:
                            yield serde.decode(out.value)
    finally:
        consumer.close()


def _read_all(log: EventLog, group: str, topics: Sequence[str], batch: int = 2000) -> list[Record]:
    consumer = log.consumer(group, topics)
    try:
        consumer.seek({tp: 0 for tp in consumer.positions()})
        out: list[Record] = []
        while records := consumer.poll(batch, 0.0):
            out.extend(records)
        return out
    finally:
        consumer.close()


def _existing(log: EventLog, names: Sequence[str]) -> list[str]:
    found = []
    for name in names:
        try:
            log.partitions(name)
        except KeyError:
            continue
        found.append(name)
    return found


def replay_check(
    log: EventLog, serde: Serde, processor: Processor[Any], *, max_details: int = 10
) -> ReplayResult:
    """Re-decide every committed input of `processor` and compare with the recorded outputs."""
    committed: dict[TopicPartition, int] = log.committed(processor.name)
    expected: dict[_Coord, list[_Out]] = {}
    by_event_id: dict[str, _Coord] = {}
    state = processor.initial_state()
    times: Times = {}
    for r in _read_all(log, f"{processor.name}.replay-check", processor.inputs):
        if r.offset >= committed.get((r.topic, r.partition), 0):
            continue  # not decided yet
        coord = (r.topic, r.partition, r.offset)
        state, outs, _dead = step(processor, serde, state, r, times)
        expected[coord] = [(o.topic, o.key, o.value) for o in outs]
        with contextlib.suppress(DecodeError):
            by_event_id.setdefault(serde.decode(r.value).envelope.event_id, coord)

    recorded: dict[_Coord, list[_Out]] = defaultdict(list)
    outputs = _existing(log, [*processor.outputs, DEAD_LETTER.name])
    for r in _read_all(log, f"{processor.name}.replay-check-outputs", outputs):
        try:
            msg = serde.decode(r.value)
        except DecodeError:
            continue  # not a message of ours
        cause = _cause(msg, processor.name, by_event_id)
        if cause in expected:  # outputs of inputs decided after `committed` was read are not checked
            recorded[cause].append((r.topic, r.key, r.value))

    details: list[str] = []
    mismatches = 0
    for coord in sorted(expected.keys() | recorded.keys()):
        for problem in _compare(serde, expected.get(coord, []), recorded.get(coord, [])):
            mismatches += 1
            if len(details) < max_details:
                details.append(f"input {coord[0]}/{coord[1]}/{coord[2]}: {problem}")
    return ReplayResult(len(expected), mismatches, tuple(details))


def _cause(msg: Message[Any], name: str, by_event_id: dict[str, _Coord]) -> _Coord | None:
    """The input an output record answers: by causation id, or a dead letter's source."""
    body = msg.body
    if isinstance(body, DeadLetter):
        if body.processor != name:
            return None
        return (body.source_topic, body.source_partition, body.source_offset)
    return by_event_id.get(msg.envelope.causation_id or "")


def _compare(serde: Serde, expected: list[_Out], recorded: list[_Out]) -> list[str]:
    problems = []
    for topic in sorted({o[0] for o in expected} | {o[0] for o in recorded}):
        exp = [o for o in expected if o[0] == topic]
        rec = [o for o in recorded if o[0] == topic]
        for i in range(max(len(exp), len(rec))):
            if i >= len(rec):
                problems.append(f"{topic} output #{i} missing: expected {_show(serde, exp[i])}")
            elif i >= len(exp):
                problems.append(f"{topic} output #{i} not expected: recorded {_show(serde, rec[i])}")
            elif exp[i] != rec[i]:
                diff = _diff(serde, exp[i], rec[i])
                if diff:
                    problems.append(f"{topic} output #{i} differs: {diff}")
    return problems


def _show(serde: Serde, out: _Out, limit: int = 200) -> str:
    try:
        text = repr(serde.decode(out[2]).body)
    except DecodeError as exc:
        text = f"<undecodable: {exc.reason}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fields(msg: Message[Any]) -> dict[str, object]:
    envelope = {f"envelope.{k}": v for k, v in dataclasses.asdict(msg.envelope).items()}
    return {
        "type": msg.type,
        **envelope,
        **{f.name: getattr(msg.body, f.name) for f in dataclasses.fields(msg.body)},
    }


def _diff(serde: Serde, expected: _Out, recorded: _Out) -> str:
    """'' when both decode to equal messages with equal keys, else the fields that differ."""
    try:
        exp, rec = serde.decode(expected[2]), serde.decode(recorded[2])
    except DecodeError as exc:
        return f"recorded value does not decode: {exc.reason}"
    if exp == rec and expected[1] == recorded[1]:
        return ""
    parts = [f"key expected {expected[1]!r}, recorded {recorded[1]!r}"] if expected[1] != recorded[1] else []
    a, b = _fields(exp), _fields(rec)
    parts += [
        f"{k} expected {a.get(k)!r}, recorded {b.get(k)!r}"
        for k in a.keys() | b.keys()
        if a.get(k) != b.get(k)
    ]
    return "; ".join(sorted(parts))
