"""AMI adapter benchmark: events/s the adapter translates beside the raw frame-parse rate.

Prints numbers and asserts nothing, except that every run saw the same frames. The input
is the real recordings under `../shared/data/ami/` (cacofonisk's JSON lists and goami2's
wire text; see that folder's README for sources and licences), turned into one AMI wire
stream and repeated until it holds `--events` events (default 300,000). Each copy gets its
own channel and call ids (a suffix on every `*Uniqueid`, `*Linkedid` and `*Channel`), so the
mapper works through new calls every time instead of skipping copies as duplicates. Built
once, not timed. Then, in one run, on the same bytes fed in 64 KiB reads as a socket
delivers them:

1. parse: `FrameParser.feed` only (bytes to frames);
2. map: `AmiMapper.translate` only, on the frames parsed in 1 (frames to facts);
3. adapter: `AmiAdapter.feed_bytes`, the whole edge (bytes to frames to facts to
   `Message`s with deterministic envelopes, dead letters for bad frames) as the live
   client drives it.

Each is timed with `time.perf_counter` over `--repeat` runs (best shown) after a warm-up.

    python bench/ami.py [--events 300000 --repeat 3 --quiet]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telephony.ami.adapter import AmiAdapter  # noqa: E402
from telephony.ami.frames import Frame, FrameParser, read_recording, wire  # noqa: E402
from telephony.ami.mapper import AmiMapper  # noqa: E402

DATA = ROOT.parent / "shared/data/ami"
CHUNK = 65_536


def progress(quiet: bool, text: str) -> None:
    if not quiet:
        print(f"[bench-ami] {text}", file=sys.stderr, flush=True)


def recorded_events() -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    for path in sorted(DATA.glob("cacofonisk/**/*.json")) + sorted(DATA.glob("goami2/*.ami")):
        if path.name == "expected_outcomes.json":
            continue
        _, items = read_recording(path.read_bytes())
        events += [i.headers for i in items if isinstance(i, Frame) and "Event" in i.headers]
    return events


def _renamed(event: dict[str, str], suffix: str) -> dict[str, str]:
    return {
        k: (v + suffix if v and k.endswith(("Uniqueid", "Linkedid", "Channel")) else v)
        for k, v in event.items()
    }


def build_stream(target: int, quiet: bool) -> tuple[bytes, int, int]:
    base = recorded_events()
    copies = max(1, -(-target // len(base)))
    parts: list[bytes] = []
    for k in range(copies):
        suffix = f"~{k}"
        parts += [wire(_renamed(e, suffix)) for e in base]
        if not quiet and (k + 1) % max(1, copies // 5) == 0:
            progress(quiet, f"building the stream: copy {k + 1:,} of {copies:,}")
    return b"".join(parts), len(base), copies


def chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def best_of(repeat: int, run: Callable[[], int], label: str, quiet: bool) -> tuple[float, int]:
    run()  # warm-up
    best, count = float("inf"), 0
    for r in range(repeat):
        gc.collect()
        start = time.perf_counter()
        count = run()
        best = min(best, time.perf_counter() - start)
        progress(quiet, f"{label}: run {r + 1}/{repeat} {count:,} in {best:.2f}s (best so far)")
    return best, count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=300_000, help="events in the stream (recordings repeated)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each measurement (best shown)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    a = ap.parse_args(argv)

    print(
        f"AMI adapter benchmark · {platform.platform()} · {platform.python_implementation()} "
        f"{platform.python_version()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()}"
    )
    print(f"started {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
    data, per_copy, copies = build_stream(a.events, a.quiet)
    pieces = chunks(data)
    print(
        f"stream: {per_copy:,} recorded events x {copies:,} copies = {per_copy * copies:,} events, "
        f"{len(data) / 1e6:,.1f} MB wire text, {len(pieces):,} reads of {CHUNK // 1024} KiB"
    )

    frames: list[Frame] = []

    def parse() -> int:
        parser = FrameParser()
        out = []
        for piece in pieces:
            out += parser.feed(piece)
        out += parser.close()
        frames[:] = [i for i in out if isinstance(i, Frame)]
        return len(out)

    def translate() -> int:
        mapper = AmiMapper()
        n = 0
        for frame in frames:
            n += len(mapper.translate(frame.headers).facts)
        return n

    counts: dict[str, int] = {}

    def adapter() -> int:
        ad = AmiAdapter("bench", "ami:bench")
        n = 0
        for piece in pieces:
            n += len(ad.feed_bytes(piece))
        n += len(ad.close())
        counts.update(frames=ad.stats.frames, facts=ad.stats.facts, bad=ad.stats.dead_letters)
        return n

    t_parse, n_items = best_of(a.repeat, parse, "parse", a.quiet)
    t_map, n_facts = best_of(a.repeat, translate, "map", a.quiet)
    t_adapter, n_messages = best_of(a.repeat, adapter, "adapter", a.quiet)
    n_frames = len(frames)

    print()
    print(f"{'stage':<10}{'frames':>12}{'out':>12}{'seconds':>10}{'events/s':>14}{'MB/s':>9}")
    mb = len(data) / 1e6
    rate = n_frames / t_parse
    print(f"{'parse':<10}{n_frames:>12,}{n_items:>12,}{t_parse:>10.3f}{rate:>14,.0f}{mb / t_parse:>9.1f}")
    print(f"{'map':<10}{n_frames:>12,}{n_facts:>12,}{t_map:>10.3f}{n_frames / t_map:>14,.0f}{'':>9}")
    print(
        f"{'adapter':<10}{counts['frames']:>12,}{n_messages:>12,}{t_adapter:>10.3f}"
        f"{counts['frames'] / t_adapter:>14,.0f}{mb / t_adapter:>9.1f}"
    )
    print()
    print(
        f"adapter (parse + map + envelopes) translates {counts['frames'] / t_adapter:,.0f} AMI events/s "
        f"beside a raw parse rate of {n_frames / t_parse:,.0f} frames/s "
        f"(parsing is {t_parse / t_adapter:.0%} of the adapter's time)"
    )
    print(f"facts per event: {counts['facts'] / max(1, counts['frames']):.2f}; bad frames: {counts['bad']:,}")
    same = counts["frames"] == n_frames and counts["facts"] == n_facts
    print(f"same frames and facts in every stage: {'yes' if same else 'NO'}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
