"""Progress lines of the long benchmarks: one on stderr every few seconds of a phase."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """`progress(text)` prints `[bench-NAME] text` on stderr at most every `every_s` seconds
    (always with `force`); nothing with `quiet`."""

    def __init__(self, name: str, quiet: bool, every_s: float = 5.0) -> None:
        self.name = name
        self.quiet = quiet
        self.every_s = every_s
        self.last = time.monotonic()

    def __call__(self, text: str, force: bool = False) -> None:
        if self.quiet or (not force and time.monotonic() - self.last < self.every_s):
            return
        self.last = time.monotonic()
        print(f"[bench-{self.name}] {text}", file=sys.stderr, flush=True)
