"""Run the counter processor over a log file until idle (a child process the crash test kills).

`python -m helpers.crash_child LOG_PATH` with `tests/` on PYTHONPATH. Commits sleep a few
random milliseconds first, so a SIGKILL often lands between processing and commit.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Sequence

from helpers.counter import counter_processor
from streams.embedded import EmbeddedLog
from streams.ports import OutRecord, Position, Snapshot
from streams.runner import Runner
from streams.serde import Serde


class SlowLog(EmbeddedLog):
    def commit(
        self, group: str, outputs: Sequence[OutRecord], positions: Position, snapshot: Snapshot | None = None
    ) -> None:
        time.sleep(random.uniform(0, 0.004))
        super().commit(group, outputs, positions, snapshot)


def main(path: str) -> None:
    log = SlowLog(path)
    runner = Runner(counter_processor(), log, Serde(log), batch_size=20, snapshot_every=4)
    runner.run_until_idle()
    runner.close()
    log.close()


if __name__ == "__main__":
    main(sys.argv[1])
