"""The runner: drives a processor (or a sink) over the log exactly-once, on either backend.

A `Runner` restores its processor's state (the last snapshot whose processor version
matches, then a re-run of the input tail from the snapshot's positions up to the committed
ones, discarding outputs that were already committed: purity makes this exact), then loops:
poll a batch, decode each record, `process(state, message)`, and commit the outputs, the
dead letters, the input positions and now and then a snapshot in ONE `EventLog.commit`.
A crash anywhere before that commit re-does the batch; after it, nothing is re-done.
`advance` handles what is there without committing and hands back the outputs, and `flush`
commits all of it at once (Kafka Streams' commit interval): the fast-forward simulator
reacts to every decision at once but pays one transaction per many of them.

On Kafka several instances share a group's partitions. When the group moves partitions
(`Consumer.rebalances` changes), the runner drops its uncommitted work and rebuilds its
state for the partitions it owns now, as after a restart (a snapshot counts only if it
covers all of them: another member may have written it). A commit the log rolled back
(`CommitAborted`: a new group generation, a broker failing over) is re-done the same way.

Bad input never stops the loop: a record that does not decode, a message the processor
calls `Invalid`, or any other exception of the processor becomes a dead letter with the
reason, and the state stays as it was. `step` is that one-record rule, shared with
`streams.replay`.

The same `Runner` drives a `Sink`, a side-effecting consumer (the warehouse writer): it
decodes a batch, dead-letters what does not decode, calls `sink.write` (which must be
idempotent: a crash between write and commit writes the batch again) and commits the
positions. Only the handling of a batch differs (`_handle`); restore, snapshots and the
loop are one code path. A sink does not re-run its tail on restore (that would only
re-decode it): its dead letters' times come from its last snapshot until a good record.

A processor whose state may hold what must never be persisted (the IVR's sensitive digits)
defines `snapshot_ok(state)`: while it says no, a due snapshot waits for a later commit.
"""

from __future__ import annotations

import logging
import pickle
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from processors.decider import Invalid, Processor
from schemas.envelope import Message
from streams.deadletter import dead_letter
from streams.ports import CommitAborted, EventLog, OutRecord, Position, Record, Snapshot, TopicPartition
from streams.serde import DecodeError, Serde

__all__ = ["Runner", "Sink", "Times", "decode_record", "step"]

S = TypeVar("S")
Times = dict[TopicPartition, int]
"""The last good `occurred_at` seen per input partition (the time of its dead letters)."""

_log = logging.getLogger(__name__)

ABORT_RETRIES = 20
"""Commits rolled back (`CommitAborted`) in a row before the runner gives up and raises."""

_SNAP = struct.Struct(">4sI")
_SNAP_MAGIC = b"CCXS"


class Sink(Protocol):
    """A side-effecting consumer; `write` must be idempotent (a batch may be written twice)."""

    @property
    def name(self) -> str: ...

    @property
    def inputs(self) -> Sequence[str]: ...

    def write(self, batch: Sequence[tuple[Record, Message[Any]]]) -> None: ...


def decode_record(
    serde: Serde, name: str, record: Record, times: Times
) -> tuple[Message[Any] | None, OutRecord | None]:
    """The record's message, or (None, its dead letter); updates `times` on success."""
    tp = (record.topic, record.partition)
    try:
        msg = serde.decode(record.value)
    except DecodeError as exc:
        letter = dead_letter(record, name, "DecodeError", exc.reason, occurred_at=times.get(tp, 0))
        return None, serde.out(letter)
    times[tp] = msg.envelope.occurred_at
    return msg, None


def step(
    processor: Processor[S], serde: Serde, state: S, record: Record, times: Times
) -> tuple[S, list[OutRecord], bool]:
    """Process one record: (new state, output records, whether the output is a dead letter)."""
    msg, letter = decode_record(serde, processor.name, record, times)
    if msg is None:
        assert letter is not None
        return state, [letter], True
    try:
        new_state, outputs = processor.process(state, msg)
        records = [serde.out(o) for o in outputs]
        stray = [r.topic for r in records if r.topic not in processor.outputs]
        if not stray:
            return new_state, records, False
        error, reason = "UndeclaredOutput", f"processor error: wrote to {stray}, not among its outputs"
    except Invalid as exc:
        error, reason = "Invalid", exc.reason
    except Exception as exc:  # a processor bug must not stop the log: quarantine the input
        error, reason = type(exc).__name__, f"processor error: {type(exc).__name__}: {exc}"
    at = times.get((record.topic, record.partition), 0)
    letter_msg = dead_letter(record, processor.name, error, reason, occurred_at=at, cause=msg)
    return state, [serde.out(letter_msg)], True


@dataclass
class _Pending:
    """Handled but not yet committed: the state and times after it, its outputs, its counts."""

    state: Any
    times: Times
    outputs: list[OutRecord] = field(default_factory=list)
    handled: int = 0
    dead: int = 0


class Runner:
    """Drives a `Processor` (group `processor.name`) or a `Sink` (group `sink.name`) exactly-once.

    Counters for progress output: `handled` input records, `outputs` and `dead_letters`
    appended, `batches` committed, `replayed` records re-processed on restore, `aborts`
    commits rolled back and re-done.
    """

    def __init__(
        self,
        target: Processor[Any] | Sink,
        log: EventLog,
        serde: Serde,
        *,
        batch_size: int = 500,
        snapshot_every: int = 50,
        poll_timeout_s: float = 0.0,
    ) -> None:
        self.processor: Processor[Any] | None = None
        self.sink: Sink | None = None
        if hasattr(target, "process"):
            self.processor = cast("Processor[Any]", target)
            initial: Any = self.processor.initial_state()
        elif hasattr(target, "write"):
            self.sink = target
            initial = None
        else:
            raise TypeError(f"{type(target).__name__} is neither a Processor (process) nor a Sink (write)")
        self.name: str = target.name
        self.version = int(getattr(target, "version", 1))
        self.log, self.serde = log, serde
        self.batch_size, self.snapshot_every, self.poll_timeout_s = batch_size, snapshot_every, poll_timeout_s
        self.handled = self.dead_letters = self.outputs = self.batches = self.replayed = self.aborts = 0
        self._initial: Any = initial
        self._state: Any = initial
        self._times: Times = {}
        self._pending: _Pending | None = None
        self._rebalances = 0
        self._base: dict[TopicPartition, int] = {}  # committed positions as last known here
        self._aborts_in_a_row = 0
        self._snapshot_due = False
        self._consumer = log.consumer(self.name, list(target.inputs))
        try:
            self._restore(initial)
        except BaseException:
            self._consumer.close()
            raise

    @property
    def state(self) -> Any:
        """The state as of the last commit (immutable; safe to read from another thread)."""
        return self._state

    # -- handling a batch: the one place a processor and a sink differ

    def _handle(
        self, state: Any, records: Sequence[Record], times: Times, *, replay: bool
    ) -> tuple[Any, list[OutRecord], int]:
        """(state, outputs, how many of them are dead letters); no side effects when replaying."""
        outputs: list[OutRecord] = []
        dead = 0
        if self.processor is not None:
            for record in records:
                state, outs, is_dead = step(self.processor, self.serde, state, record, times)
                outputs.extend(outs)
                dead += is_dead
            return state, outputs, dead
        good: list[tuple[Record, Message[Any]]] = []
        for record in records:
            msg, letter = decode_record(self.serde, self.name, record, times)
            if msg is not None:
                good.append((record, msg))
            elif letter is not None:
                outputs.append(letter)
                dead += 1
        if good and not replay and self.sink is not None:
            self.sink.write(good)
        return state, outputs, dead

    # -- snapshots

    def _snapshot_ok(self, state: Any) -> bool:
        """A processor may veto a snapshot of a state it must not persist (`snapshot_ok(state)`,
        the IVR's sensitive digits): the snapshot is then taken at the first commit after
        it allows one."""
        ok = getattr(self.processor, "snapshot_ok", None)
        return ok is None or bool(ok(state))

    def _pack(self, state: Any, times: Times) -> bytes:
        return _SNAP.pack(_SNAP_MAGIC, self.version) + pickle.dumps((state, times), pickle.HIGHEST_PROTOCOL)

    def _unpack(self, snap: Snapshot | None) -> tuple[Any, Times] | None:
        if snap is None or len(snap.state) < _SNAP.size:
            return None
        magic, version = _SNAP.unpack_from(snap.state)
        if magic != _SNAP_MAGIC or version != self.version:
            return None  # another processor version: rebuild from offset 0
        try:
            state, times = pickle.loads(snap.state[_SNAP.size :])
        except Exception:
            return None
        return state, times

    def _restore(self, initial: Any, *, first: bool = True) -> None:
        """Rebuild the state of the partitions the consumer owns and stand at their committed
        positions. Starts over if the group rebalances meanwhile (`Consumer.rebalances`)."""
        while True:
            self._rebalances = self._consumer.rebalances
            now = self._consumer.positions()
            if first:  # a new consumer stands at the committed positions
                committed = now
            else:  # kept partitions may be ahead (work dropped): ask the group
                group = self.log.committed(self.name)
                committed = {tp: group.get(tp, self._base.get(tp, pos)) for tp, pos in now.items()}
            self._base.update(committed)
            first = False
            state, times = self._rebuild(initial, committed)
            if self._consumer.rebalances == self._rebalances:
                self._state, self._times = state, times
                return

    def _rebuild(self, initial: Any, committed: dict[TopicPartition, int]) -> tuple[Any, Times]:
        """The state as of `committed`: the last snapshot if it covers every partition owned
        now (on Kafka another member may have written it for other partitions, and its state
        says nothing true about the others), else the initial state; then a re-run of the
        input tail up to `committed`. Leaves the consumer at `committed`."""
        snap = self.log.load_snapshot(self.name)
        loaded = self._unpack(snap)
        covers = snap is not None and all(0 <= snap.positions.get(tp, -1) <= o for tp, o in committed.items())
        times: Times = {}
        if loaded is None or snap is None or not covers:
            state, start = initial, dict.fromkeys(committed, 0)
        else:
            (state, times), start = loaded, {tp: snap.positions[tp] for tp in committed}
        # A sink has no state to rebuild: it keeps the snapshot's times and skips the tail.
        if self.processor is not None and any(start[tp] < committed[tp] for tp in committed):
            self._consumer.seek(start)
            while self._consumer.rebalances == self._rebalances:
                pos = self._consumer.positions()
                if all(pos[tp] >= committed[tp] for tp in committed):
                    break
                records = self._consumer.poll(self.batch_size, self.poll_timeout_s)
                if not records or self._consumer.rebalances != self._rebalances:
                    break
                tail = [r for r in records if r.offset < committed[(r.topic, r.partition)]]
                state, _outputs, _dead = self._handle(state, tail, times, replay=True)
                self.replayed += len(tail)
        pos = self._consumer.positions()
        moved = {tp: o for tp, o in committed.items() if tp in pos and pos[tp] != o}
        if moved:
            self._consumer.seek(moved)
        return state, times

    def _reassigned(self) -> None:
        """The group moved partitions (another member came or went): the work not committed
        is dropped, as after a crash (the records polled may belong to another member now),
        and the state is rebuilt for the partitions this member owns now."""
        self._pending = None
        self._restore(self._initial, first=False)

    def _back_to_committed(self, positions: Position) -> None:
        committed = self.log.committed(self.name)
        self._consumer.seek({tp: committed.get(tp, self._base.get(tp, 0)) for tp in positions})

    # -- the loop

    def _take(self) -> tuple[int, list[OutRecord]]:
        """Poll and handle one batch on top of what is pending (not committed); (records, outputs)."""
        records = self._consumer.poll(self.batch_size, self.poll_timeout_s)
        while self._consumer.rebalances != self._rebalances:
            self._reassigned()
            records = self._consumer.poll(self.batch_size, self.poll_timeout_s)
        if not records:
            return 0, []
        p = self._pending
        state, times = (p.state, p.times) if p is not None else (self._state, self._times)
        times = dict(times)
        state, outputs, dead = self._handle(state, records, times, replay=False)
        if p is None:
            p = self._pending = _Pending(state, times)
        p.state, p.times = state, times
        p.outputs.extend(outputs)
        p.handled += len(records)
        p.dead += dead
        return len(records), outputs

    def flush(self) -> None:
        """Commit what is pending (outputs, dead letters, positions and, every `snapshot_every`
        commits, a snapshot) in one `EventLog.commit`. If the commit fails, the pending work
        is dropped and the consumer goes back to the committed positions (it is re-done)."""
        p, self._pending = self._pending, None
        if p is None:
            return
        positions = self._consumer.positions()
        snapshot = None
        self._snapshot_due = self._snapshot_due or (self.batches + 1) % self.snapshot_every == 0
        if self._snapshot_due and self._snapshot_ok(p.state):
            snapshot = Snapshot(self._pack(p.state, p.times), positions)
        try:
            self.log.commit(self.name, p.outputs, positions, snapshot)
        except BaseException:
            self._back_to_committed(positions)
            raise
        self._aborts_in_a_row = 0
        self._base.update(positions)
        self._state, self._times = p.state, p.times
        self.handled += p.handled
        self.outputs += len(p.outputs) - p.dead
        self.dead_letters += p.dead
        self.batches += 1
        if snapshot is not None:
            self._snapshot_due = False

    def run_once(self) -> int:
        """Poll, handle and commit one batch; the number of input records handled. A commit
        the log rolled back (`CommitAborted`: a rebalance, a broker going away) is re-done by
        the next batches, after a short backoff, up to `ABORT_RETRIES` times in a row."""
        n, _outputs = self._take()
        try:
            self.flush()
        except CommitAborted as exc:
            self.aborts += 1
            self._aborts_in_a_row += 1
            if self._aborts_in_a_row > ABORT_RETRIES:
                raise
            _log.warning("%s: commit rolled back, the batch is re-done: %s", self.name, exc)
            time.sleep(min(0.05 * 2 ** (self._aborts_in_a_row - 1), 2.0))
        return n

    def run_until_idle(self) -> int:
        """Run batches until the input is exhausted; the number of records handled."""
        total = 0
        while n := self.run_once():
            total += n
        return total

    def advance(self, max_pending: int = 50_000) -> list[OutRecord]:
        """Handle every record available now WITHOUT committing (unless more than
        `max_pending` records wait) and return the outputs made: a caller that must react
        to decisions at once (the fast-forward simulator) sees them before they are
        committed and commits with `flush` when it likes, so one transaction covers many
        polls. Nothing downstream sees the outputs before `flush`. A rebalance before then
        drops them, as a crash would (on Kafka, when a group member comes or goes)."""
        made: list[OutRecord] = []
        while True:
            n, outputs = self._take()
            made.extend(outputs)
            if not n:
                return made
            if self._pending is not None and self._pending.handled >= max_pending:
                self.flush()

    def run_forever(self, stop: threading.Event, idle_sleep_s: float = 0.05) -> None:
        """Run until `stop`; when idle, wait up to `idle_sleep_s` for a write to the log
        (in-process writes wake it at once: `EventLog.wait_for_append`)."""
        while not stop.is_set():
            mark = self.log.append_mark()
            if not self.run_once():
                self.log.wait_for_append(mark, idle_sleep_s)

    def close(self) -> None:
        """Close the consumer; work not flushed is dropped (it is re-done, as after a crash)."""
        self._pending = None
        self._consumer.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
