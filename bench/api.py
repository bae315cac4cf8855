"""API benchmark on the embedded default: command round trips and wallboard staleness.

Prints numbers and asserts nothing. One process, as `ccx up` runs it minus the simulator:
a temporary data directory, the embedded log, the ACD and live-stats runners in threads
(idle poll 50 ms, as `ccx up`), the command gateway and the token store, and the real app
(`api.app.create_app`) served by uvicorn on 127.0.0.1 (a free port) in a thread. The
clients run in the main thread's event loop of the same process, so they share its two
CPUs and its GIL with the server: the output says how busy the process was.

1. Round trips. Through the API (an admin token) the queue `q1` and `--agents` agents
   are defined, and each agent logs in with its own agent token (not timed). Then
   `--concurrency` HTTP clients (one `httpx.AsyncClient`, that many connections) each
   drive their own agents through ready / not-ready cycles, `--commands` in all: each a
   full round trip (`POST /v1/agents/{id}/ready` or `/not-ready`: the command appended to
   the log, decided by the ACD, answered with its events). Per command the time from
   sending the request to reading the answer (`time.perf_counter_ns`): p50/p90/p99/max in
   ms, commands/s over the wall time of the phase, and answers other than 200 with events.
2. Wallboard staleness. `--clients` WebSocket clients (`websockets`) open
   `/v1/stream/wallboard?token=` (an analyst token). Once each has its first document,
   `--events` `RouteContact`s to the queue `wall` (no agents serve it, so its `waiting`
   grows by one each) are appended to the log at `--rate` per second, the wall time
   (`time.time`) of each append recorded. For every client the first document whose
   `wall` queue shows `waiting` >= k marks the arrival of event k; staleness = arrival -
   append, over every (client, event) pair: p50/p90/p99/max in ms. It spans the ACD's
   and the stats runner's polls, the stream's change check (`PUSH_INTERVAL_S`, 250 ms)
   and the push to each client (permessage-deflate, as browsers negotiate it). "missing"
   counts pairs never seen within 30 s of the last append; "pushes" every document the
   clients received in the phase.

Each phase's line gives the process's CPU time over its wall time and, when the machine's
load average exceeds its CPUs, says that other processes took CPU from this one.

    python bench/api.py [--agents 200 --commands 5000 --concurrency 32
                         --clients 500 --events 50 --rate 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

try:
    import sniffio  # noqa: F401
except ImportError:  # httpcore tries this import on every request: a failed search of sys.path each
    sys.modules["sniffio"] = None  # type: ignore[assignment]

import httpx
import uvicorn
import websockets
from progress_lines import Progress  # bench/progress_lines.py, beside this script

from api.app import PUSH_INTERVAL_S, create_app
from api.auth import TokenStore
from api.gateway import CommandGateway
from api.live import LiveView
from ccx.bootstrap import Pipeline, open_pipeline
from ccx.settings import Settings
from ccx.tokens import token_store
from schemas.commands import RouteContact
from schemas.envelope import Envelope, Message

TENANT = "demo"
WALL = "wall"


@dataclass
class Server:
    """The pipeline, the runners, the gateway and uvicorn, all running; `url` to reach it."""

    pipeline: Pipeline
    tokens: TokenStore
    url: str


@contextlib.contextmanager
def running_server(data_dir: Path) -> Iterator[Server]:
    settings = Settings(data_dir=data_dir, tenant=TENANT)
    pipeline = open_pipeline(settings, with_warehouse=False, runners=("acd", "stats"))
    stop = threading.Event()
    threads = [
        threading.Thread(target=r.run_forever, args=(stop, 0.05), name=f"runner-{n}", daemon=True)
        for n, r in pipeline.runners.items()
    ]
    for t in threads:
        t.start()
    tokens = token_store(settings)
    gateway = CommandGateway(pipeline.log, pipeline.serde)
    app = create_app(LiveView(state=lambda: pipeline.stats.state, tenant=TENANT))
    app.state.tokens = tokens
    app.state.gateway = gateway
    acd = pipeline.runners["acd"]
    app.state.acd = lambda: acd.state
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, backlog=4096)
    server = uvicorn.Server(config)
    serving = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    serving.start()
    try:
        for _ in range(1000):  # a bound on waiting for the server to listen
            if server.started or not serving.is_alive():
                break
            time.sleep(0.01)
        if not server.started:
            raise SystemExit("uvicorn did not start")
        yield Server(pipeline, tokens, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        serving.join(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=5)
        gateway.close()
        tokens.close()
        pipeline.close()
        sock.close()


def pct(sorted_values: Sequence[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def table_row(label: str, cells: Sequence[str]) -> str:
    return f"{label:<12}" + "".join(f" {c:>10}" for c in cells)


async def bounded(limit: int, jobs: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


# -- 1. round trips ------------------------------------------------------------------------


@dataclass
class RoundTrips:
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0


async def setup_agents(
    http: httpx.AsyncClient, server: Server, n_agents: int, concurrency: int, progress: Progress
) -> dict[str, str]:
    """Define the queues and the agents (admin), log each agent in (its own token)."""
    admin = {"Authorization": f"Bearer {server.tokens.issue('bench-admin', 'admin', TENANT)}"}
    for queue_id, name in (("q1", "Bench"), (WALL, "Wallboard bench")):
        r = await http.put(f"/v1/config/queues/{queue_id}", headers=admin, json={"name": name})
        r.raise_for_status()
    agents = [f"a{i + 1:04d}" for i in range(n_agents)]
    body = {"queues": ["q1"], "team": "bench"}

    def define(agent_id: str) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            r = await http.put(
                f"/v1/config/agents/{agent_id}", headers=admin, json={"name": agent_id, **body}
            )
            r.raise_for_status()

        return job

    await bounded(concurrency, [define(a) for a in agents])
    progress(f"{n_agents:,} agents defined", force=True)
    tokens = {a: server.tokens.issue(a, "agent", TENANT, agent_id=a) for a in agents}

    def log_in(agent_id: str) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            headers = {"Authorization": f"Bearer {tokens[agent_id]}"}
            r = await http.post(f"/v1/agents/{agent_id}/login", headers=headers)
            r.raise_for_status()

        return job

    await bounded(concurrency, [log_in(a) for a in agents])
    progress(f"{n_agents:,} agents logged in", force=True)
    return tokens


async def round_trips(
    http: httpx.AsyncClient, tokens: dict[str, str], n_commands: int, concurrency: int, progress: Progress
) -> RoundTrips:
    agents = sorted(tokens)
    workers = max(1, min(concurrency, len(agents)))
    result = RoundTrips()
    done = 0

    async def drive(k: int, count: int) -> None:
        nonlocal done
        mine = agents[k::workers]
        ready = dict.fromkeys(mine, False)  # logged in: not ready
        for i in range(count):
            agent_id = mine[i % len(mine)]
            headers = {"Authorization": f"Bearer {tokens[agent_id]}"}
            start = time.perf_counter_ns()
            if ready[agent_id]:
                r = await http.post(
                    f"/v1/agents/{agent_id}/not-ready", headers=headers, json={"reason": "break"}
                )
            else:
                r = await http.post(f"/v1/agents/{agent_id}/ready", headers=headers)
            result.latencies_ns.append(time.perf_counter_ns() - start)
            if r.status_code == 200 and r.json().get("events"):
                ready[agent_id] = not ready[agent_id]
                outcome = "200"
            else:
                outcome = "200 without events" if r.status_code == 200 else str(r.status_code)
            result.statuses[outcome] = result.statuses.get(outcome, 0) + 1
            done += 1
            progress(f"round trips: {done:,}/{n_commands:,}")

    share, extra = divmod(n_commands, workers)
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(drive(k, share + (k < extra)) for k in range(workers)))
    result.wall_s = time.perf_counter() - t0
    result.cpu_s = time.process_time() - cpu0
    return result


# -- 2. wallboard staleness -----------------------------------------------------------------


@dataclass
class Staleness:
    appended: list[float]
    arrivals: list[list[float | None]]
    messages: int = 0
    connect_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0


def wall_waiting(text: str) -> int:
    doc = json.loads(text)
    for q in doc.get("queues", ()):
        if q.get("queue_id") == WALL:
            return int(q.get("waiting", 0))
    return 0


def raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def staleness(server: Server, a: argparse.Namespace, progress: Progress) -> Staleness:
    raise_open_files(2 * a.clients + 256)  # each client's socket and the server's end
    token = server.tokens.issue("bench-wallboard", "analyst", TENANT)
    uri = server.url.replace("http://", "ws://") + f"/v1/stream/wallboard?token={token}"
    result = Staleness([0.0] * a.events, [[None] * a.events for _ in range(a.clients)])
    first = [asyncio.Event() for _ in range(a.clients)]
    finished = [asyncio.Event() for _ in range(a.clients)]
    connected = 0

    async def client(c: int, ws: Any) -> None:
        seen = 0
        arrivals = result.arrivals[c]
        async for text in ws:
            now = time.time()
            result.messages += 1
            first[c].set()
            waiting = min(wall_waiting(text), a.events)
            for k in range(seen, waiting):
                arrivals[k] = now
            seen = max(seen, waiting)
            if seen >= a.events:
                finished[c].set()
                return

    t0 = time.perf_counter()
    sockets: list[Any] = []
    tasks: list[asyncio.Task[None]] = []

    def opener(c: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            nonlocal connected
            ws = await websockets.connect(uri, open_timeout=60, max_size=None)
            sockets.append(ws)
            tasks.append(asyncio.create_task(client(c, ws)))
            connected += 1
            progress(f"wallboard clients connected: {connected:,}/{a.clients:,}")

        return job

    try:
        await bounded(50, [opener(c) for c in range(a.clients)])
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in first)), 60)
        result.connect_s = time.perf_counter() - t0
        progress(f"{a.clients:,} clients connected and pushed to in {result.connect_s:.1f} s", force=True)

        cpu0, t1 = time.process_time(), time.perf_counter()
        log, serde = server.pipeline.log, server.pipeline.serde
        for k in range(a.events):
            due = t1 + k / a.rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            contact_id = f"wall-{k + 1:05d}"
            at = time.time()
            env = Envelope(f"route-{contact_id}", TENANT, int(at * 1000), contact_id, None, "switch")
            log.append([serde.out(Message(env, RouteContact(contact_id, WALL)))])
            result.appended[k] = at
            progress(f"staleness: {k + 1:,}/{a.events:,} events appended")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in finished)), 30)
        result.wall_s = time.perf_counter() - t1
        result.cpu_s = time.process_time() - cpu0
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
    return result


# -- the report -----------------------------------------------------------------------------


def busy_note(cpu_s: float, wall_s: float) -> str:
    share = cpu_s / max(wall_s, 1e-9)
    note = f"process CPU {share:.2f} of {os.cpu_count()} CPUs"
    if share >= 0.9:
        note += " (about one CPU's worth: bound by the GIL shared by server, runners and clients)"
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > cpus:
        note += f" · machine load average {load:.1f} on {cpus} CPUs: other processes took CPU from this one"
    return note


def print_round_trips(r: RoundTrips) -> None:
    ms = sorted(x / 1e6 for x in r.latencies_ns)
    print()
    print(table_row("round trips", ("commands", "cmds/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "not 200")))
    bad = sum(n for k, n in r.statuses.items() if k != "200")
    cells = (
        f"{len(ms):,}",
        f"{len(ms) / max(r.wall_s, 1e-9):,.0f}",
        *(f"{pct(ms, p):.1f}" for p in (50, 90, 99)),
        f"{ms[-1] if ms else float('nan'):.1f}",
        f"{bad:,}",
    )
    print(table_row("ready/not", cells))
    if bad:
        print("answers: " + " · ".join(f"{k}: {n:,}" for k, n in sorted(r.statuses.items())))
    print(f"{r.wall_s:.1f} s · {busy_note(r.cpu_s, r.wall_s)}")


def print_staleness(s: Staleness, clients: int) -> None:
    ms = sorted(
        (arrived - s.appended[k]) * 1000
        for per_client in s.arrivals
        for k, arrived in enumerate(per_client)
        if arrived is not None
    )
    missing = sum(arrived is None for per_client in s.arrivals for arrived in per_client)
    print()
    print(table_row("staleness", ("pairs", "missing", "p50 ms", "p90 ms", "p99 ms", "max ms", "pushes")))
    cells = (
        f"{len(ms):,}",
        f"{missing:,}",
        *(f"{pct(ms, p):.0f}" for p in (50, 90, 99)),
        f"{ms[-1] if ms else float('nan'):.0f}",
        f"{s.messages:,}",
    )
    print(table_row("wallboard", cells))
    print(
        f"{clients:,} clients connected in {s.connect_s:.1f} s · {len(s.appended):,} events over "
        f"{s.wall_s:.1f} s · {busy_note(s.cpu_s, s.wall_s)}"
    )


async def run(a: argparse.Namespace, server: Server, progress: Progress) -> None:
    limits = httpx.Limits(max_connections=a.concurrency, max_keepalive_connections=a.concurrency)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
        t0 = time.perf_counter()
        tokens = await setup_agents(http, server, a.agents, a.concurrency, progress)
        print(
            f"setup: {a.agents:,} agents defined and logged in through the API "
            f"({2 * a.agents + 2:,} round trips) in {time.perf_counter() - t0:.1f} s"
        )
        print_round_trips(await round_trips(http, tokens, a.commands, a.concurrency, progress))
    print_staleness(await staleness(server, a, progress), a.clients)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--commands", type=int, default=5_000)
    ap.add_argument("--concurrency", type=int, default=32, help="HTTP clients at once")
    ap.add_argument("--clients", type=int, default=500, help="wallboard WebSocket clients")
    ap.add_argument("--events", type=int, default=50, help="wallboard changes to time")
    ap.add_argument("--rate", type=float, default=5.0, help="wallboard changes per second")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    a = ap.parse_args(argv)
    for name in ("agents", "commands", "concurrency", "clients", "events"):
        if getattr(a, name) < 1:
            ap.error(f"--{name} must be at least 1")
    if a.rate <= 0:
        ap.error("--rate must be positive")
    print(
        f"API benchmark · {platform.platform()} · {platform.python_implementation()} "
        f"{platform.python_version()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()}"
        f" · load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"embedded log · runners acd, stats (idle poll 50 ms) · uvicorn in-process · "
        f"{a.agents:,} agents · {a.commands:,} commands at concurrency {min(a.concurrency, a.agents)} · "
        f"{a.clients:,} wallboard clients · {a.events} events at {a.rate:g}/s · push check "
        f"{PUSH_INTERVAL_S * 1000:.0f} ms"
    )
    progress = Progress("api", a.quiet)
    with tempfile.TemporaryDirectory(prefix="ccx-bench-api-") as tmp, running_server(Path(tmp)) as server:
        try:
            import uvloop

            loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
        except ImportError:
            loop_factory = None
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(run(a, server, progress))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
