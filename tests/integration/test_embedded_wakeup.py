"""The embedded log wakes this process's idle waiters on every committed write, so an idle
runner decides an in-process append at once instead of after its idle sleep."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from streams import topics
from streams.embedded import EmbeddedLog
from streams.ports import OutRecord


def test_a_write_wakes_a_waiter_and_a_failed_one_does_not_count(tmp_path: Path) -> None:
    log = EmbeddedLog(tmp_path / "log.sqlite")
    try:
        log.ensure_topics(topics.ALL)
        mark = log.append_mark()
        woke = threading.Event()

        def waiter() -> None:
            log.wait_for_append(mark, 60.0)  # bounded; the append below ends it
            woke.set()

        t = threading.Thread(target=waiter)
        t.start()
        assert not woke.wait(0.2), "nothing was written yet"
        log.append([OutRecord(topics.COMMANDS.name, b"demo", b"x")])
        t.join(timeout=30)
        assert woke.is_set() and log.append_mark() == mark + 1
        # A write that fails (unknown topic) commits nothing and wakes nobody.
        before = log.append_mark()
        with pytest.raises(Exception, match="no-such-topic"):
            log.append([OutRecord("no-such-topic", b"k", b"v")])
        assert log.append_mark() == before
        # A mark already passed returns at once.
        log.wait_for_append(mark, 60.0)
    finally:
        log.close()
