"""The runner on a real embedded log: dead letters, rejections, snapshots, replay-check."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.counter import CounterState, commands, counter_processor

from schemas.envelope import Message, derive_event_id
from schemas.system import CommandRejected, DeadLetter
from streams.embedded import EmbeddedLog
from streams.partitioner import partition_for
from streams.ports import OutRecord, Record
from streams.replay import replay_check
from streams.runner import Runner
from streams.serde import Serde
from streams.topics import ALL

CMDS = "cc.commands"


def messages(log: EmbeddedLog, serde: Serde, topic: str) -> list[Message[Any]]:
    out = []
    for p in range(log.partitions(topic)):
        out += [serde.decode(r.value) for r in log.read(topic, p, 0, 100_000)]
    return out


def dump(log: EmbeddedLog) -> dict[tuple[str, int], list[tuple[bytes, bytes]]]:
    """Every record of every topic, as bytes: two logs with equal dumps are identical."""
    return {
        (t.name, p): [(r.key, r.value) for r in log.read(t.name, p, 0, 100_000)]
        for t in ALL
        for p in range(t.partitions)
    }


def fresh(path: Path) -> tuple[EmbeddedLog, Serde]:
    log = EmbeddedLog(path)
    log.ensure_topics(ALL)
    return log, Serde(log)


def test_bad_input_is_dead_lettered_and_the_runner_goes_on(embedded_log: EmbeddedLog, serde: Serde) -> None:
    good = commands(6, tenants=1)
    invalid, reject, crash = commands(3, tenants=1, start=100, agent="x")
    invalid = Message(invalid.envelope, type(invalid.body)("invalid-1"))
    reject = Message(reject.envelope, type(reject.body)("reject-1"))
    crash = Message(crash.envelope, type(crash.body)("crash-1"))
    unknown_id = b"\x00" + (9999).to_bytes(4, "big") + b"\x02\x04"
    embedded_log.append(
        [
            serde.out(good[0]),
            OutRecord(CMDS, b"t0", b"garbage!"),
            serde.out(good[1]),
            OutRecord(CMDS, b"t0", unknown_id),
            serde.out(good[2]),
            serde.out(invalid),
            serde.out(good[3]),
            serde.out(reject),
            serde.out(good[4]),
            serde.out(crash),
            serde.out(good[5]),
        ]
    )
    runner = Runner(counter_processor(), embedded_log, serde, batch_size=4)
    assert runner.run_until_idle() == 11
    assert (runner.handled, runner.dead_letters, runner.batches) == (11, 4, 3)
    assert runner.state.count == 6

    letters = messages(embedded_log, serde, "cc.dead-letter")
    reasons = [(m.body.source_offset, m.body.error, m.body.reason) for m in letters]
    assert reasons == [
        (1, "DecodeError", "bad magic byte 103 (expected 0): not Confluent-framed"),
        (3, "DecodeError", "unknown schema id 9999"),
        (5, "Invalid", "unknown agent 'invalid-1'"),
        (9, "ZeroDivisionError", "processor error: ZeroDivisionError: integer division or modulo by zero"),
    ]
    first = letters[0]
    p = partition_for(b"t0", 6)
    assert first.body == DeadLetter(
        CMDS, p, 1, b"t0", b"garbage!", "counter", first.body.error, first.body.reason
    )
    assert first.envelope.event_id == derive_event_id(f"counter@{CMDS}/{p}/1", 0)
    assert first.envelope.tenant == "t0"
    assert first.envelope.occurred_at == good[0].envelope.occurred_at  # the last good time
    assert letters[2].envelope.causation_id == invalid.envelope.event_id

    rejected = messages(embedded_log, serde, "cc.command-results")
    assert [m.body for m in rejected] == [
        CommandRejected(
            reject.envelope.event_id, "SetAgentReady", "agent_not_ready", "agent 'reject-1' is not logged in"
        )
    ]
    outputs = messages(embedded_log, serde, "cc.agent-events")
    assert [m.envelope.causation_id for m in outputs] == [c.envelope.event_id for c in good]
    assert [m.body.reason for m in outputs] == ["1", "2", "3", "4", "5", "6"]


def test_garbage_key_gives_an_unknown_tenant(embedded_log: EmbeddedLog, serde: Serde) -> None:
    embedded_log.append([OutRecord(CMDS, b"\xff\xfe", b"")])
    Runner(counter_processor(), embedded_log, serde).run_until_idle()
    (letter,) = messages(embedded_log, serde, "cc.dead-letter")
    assert (letter.envelope.tenant, letter.envelope.occurred_at) == ("unknown", 0)
    assert letter.body.reason.startswith("empty value")


def test_snapshot_restore_and_tail_replay_equal_a_continuous_run(tmp_path: Path) -> None:
    cmds = commands(100)
    clean, clean_serde = fresh(tmp_path / "clean.sqlite")
    clean.append([clean_serde.out(c) for c in cmds])
    continuous = Runner(counter_processor(), clean, clean_serde, batch_size=10, snapshot_every=3)
    continuous.run_until_idle()

    log, serde = fresh(tmp_path / "restored.sqlite")
    log.append([serde.out(c) for c in cmds])
    first = Runner(counter_processor(), log, serde, batch_size=10, snapshot_every=3)
    for _ in range(7):  # snapshots after batches 3 and 6; committed after 7
        first.run_once()
    state_at_7 = first.state
    first.close()

    second = Runner(counter_processor(), log, serde, batch_size=10, snapshot_every=3)
    assert second.replayed == 10  # the tail from the snapshot (60) to the committed position (70)
    assert second.state == state_at_7
    second.run_until_idle()
    second.close()

    rebuilt = Runner(counter_processor(version=2), log, serde)  # another version: snapshot ignored
    assert rebuilt.replayed == 100
    assert rebuilt.state == second.state == continuous.state == CounterState(100, continuous.state.chain)
    assert dump(log) == dump(clean)
    for x in (rebuilt, continuous, clean, log):
        x.close()


def test_replay_check_finds_tampering(embedded_log: EmbeddedLog, serde: Serde) -> None:
    cmds = commands(40)
    records = [serde.out(c) for c in cmds]
    records.insert(5, OutRecord(CMDS, b"t1", b"\x00junk"))
    embedded_log.append(records)
    Runner(counter_processor(), embedded_log, serde, batch_size=7).run_until_idle()
    embedded_log.append([serde.out(c) for c in commands(5, start=40)])  # not decided yet: not checked

    result = replay_check(embedded_log, serde, counter_processor())
    assert (result.decisions, result.mismatches, result.details) == (41, 0, ())

    victim = messages(embedded_log, serde, "cc.agent-events")[3]
    forged = Message(victim.envelope, dataclasses.replace(victim.body, reason="forged"))
    db = embedded_log._db()
    db.execute(
        "UPDATE records SET value = ? WHERE topic = 'cc.agent-events' AND value = ?",
        (serde.encode(forged), serde.encode(victim)),
    )
    result = replay_check(embedded_log, serde, counter_processor())
    assert result.mismatches == 1
    assert "reason expected" in result.details[0] and "'forged'" in result.details[0]

    db.execute("DELETE FROM records WHERE topic = 'cc.dead-letter'")
    result = replay_check(embedded_log, serde, counter_processor())
    assert result.mismatches == 2
    assert any("cc.dead-letter output #0 missing" in d for d in result.details)


class ListSink:
    name = "list-sink"
    inputs = (CMDS,)

    def __init__(self) -> None:
        self.written: list[tuple[Record, Message[Any]]] = []

    def write(self, batch: Sequence[tuple[Record, Message[Any]]]) -> None:
        self.written.extend(batch)


def test_sink_gets_decoded_batches_and_bad_records_are_dead_lettered(
    embedded_log: EmbeddedLog, serde: Serde
) -> None:
    cmds = commands(10)
    embedded_log.append([serde.out(c) for c in cmds[:5]] + [OutRecord(CMDS, b"t0", b"\x01")])
    embedded_log.append([serde.out(c) for c in cmds[5:]])
    sink = ListSink()
    runner = Runner(sink, embedded_log, serde, batch_size=4)
    assert runner.run_until_idle() == 11
    assert [m for _r, m in sink.written] == cmds
    assert runner.dead_letters == 1
    (letter,) = messages(embedded_log, serde, "cc.dead-letter")
    assert (letter.body.processor, letter.body.reason) == (
        "list-sink",
        "bad magic byte 1 (expected 0): not Confluent-framed",
    )
    runner.close()
    again = Runner(ListSink(), embedded_log, serde)
    assert again.run_until_idle() == 0  # positions were committed
    again.close()


def test_run_forever_in_a_thread_until_stopped(embedded_log: EmbeddedLog, serde: Serde) -> None:
    runner = Runner(counter_processor(), embedded_log, serde, batch_size=16)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop, 0.001))
    thread.start()
    embedded_log.append([serde.out(c) for c in commands(50)])
    deadline = time.monotonic() + 30
    while runner.state.count < 50 and time.monotonic() < deadline:  # read from another thread
        time.sleep(0.005)
    stop.set()
    thread.join()
    assert (runner.state.count, runner.handled, runner.outputs) == (50, 50, 50)
    runner.close()


def test_advance_shows_outputs_at_once_and_commits_them_only_on_flush(tmp_path: Path) -> None:
    """`advance` decides without committing: its outputs are returned but not in the log;
    `flush` commits them in one go; a runner closed before flushing leaves nothing behind
    and its successor re-does exactly that work, so the log ends as after a plain run."""
    cmds = commands(30)
    plain, plain_serde = fresh(tmp_path / "plain.sqlite")
    plain.append([plain_serde.out(c) for c in cmds])
    Runner(counter_processor(), plain, plain_serde, batch_size=7).run_until_idle()

    log, serde = fresh(tmp_path / "advanced.sqlite")
    log.append([serde.out(c) for c in cmds[:20]])
    first = Runner(counter_processor(), log, serde, batch_size=7)
    made = first.advance()
    assert len(made) == 20 and {r.topic for r in made} == {"cc.agent-events"}
    assert messages(log, serde, "cc.agent-events") == [] and first.handled == 0
    first.close()  # as a crash: the 20 decisions were never committed

    second = Runner(counter_processor(), log, serde, batch_size=7)
    assert second.replayed == 0 and second.state == counter_processor().initial_state()
    assert [serde.decode(r.value) for r in second.advance()] == [serde.decode(r.value) for r in made]
    second.flush()
    assert (second.handled, second.outputs, second.batches) == (20, 20, 1)
    assert len(messages(log, serde, "cc.agent-events")) == 20
    log.append([serde.out(c) for c in cmds[20:]])
    assert len(second.advance(max_pending=4)) == 10  # more than 4 pending: it commits as it goes
    assert second.batches > 1 and second.handled >= 7
    second.flush()
    second.close()
    assert second.handled == 30 and Runner(counter_processor(), log, serde).run_until_idle() == 0
    assert dump(log) == dump(plain)
    plain.close()
    log.close()
