"""Recordings end to end on the embedded log: the recordings runner and the catalog over
real records (garbage dead-lettered, replay identical), the search API through the ASGI
transport, `ccx recordings search`, and the local storage edge on a tmp directory."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from api.app import create_app
from api.live import LiveView
from ccx.bootstrap import open_log
from ccx.cli import main
from ccx.settings import Settings
from processors.recording_catalog import RecordingCatalog
from processors.recordings import DAY_MS, RecordingsProcessor
from schemas import telephony as tel
from schemas.commands import Tick
from schemas.contact import ContactConnected
from schemas.envelope import Envelope, Message
from schemas.recording_commands import DefineRetention, RecordingStoredReported
from schemas.recordings import RecordingDeleted
from streams import topics
from streams.ports import OutRecord
from streams.replay import replay_check
from streams.runner import Runner
from telephony.recording_store import LocalRecordingStore, OutsideStore, RecordingDeleter

T0 = 1_767_600_000_000  # 2026-01-05T08:00:00Z


def msg(n: int, body: object, at: int) -> Message[object]:
    return Message(Envelope(f"in-{n}", "demo", T0 + at, f"corr-{n}"), body)


def _call(call: str, agent: str, at: int) -> list[object]:
    ch = f"PJSIP/trunk-{call}"
    return [
        (ContactConnected(call, "sales", agent, 3_000), at),
        (tel.RecordingStarted(call, ch, call, f"/var/spool/{call}.wav", "MixMonitorStart", 0), at),
        (tel.RecordingPaused(call, ch, call, "MixMonitorMute", 0), at + 5_000),
        (tel.RecordingResumed(call, ch, call, "MixMonitorMute", 0), at + 9_000),
        (tel.RecordingStopped(call, ch, call, "", "MixMonitorStop", 0), at + 60_000),
        (RecordingStoredReported(f"{call}-r1", f"file:///store/{call}.wav", 10, "sha256:00"), at + 61_000),
    ]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A log with two recorded calls (c1 by a1 at 08:00, c2 by a2 at 09:00), garbage, and ticks."""
    s = Settings(data_dir=tmp_path / "data", tenant="demo")
    log, serde = open_log(s)
    try:
        items: list[Any] = [
            (DefineRetention("sales", 1), 0),
            *_call("c1", "a1", 0),
            *_call("c2", "a2", 3_600_000),
        ]
        items += [(Tick(), DAY_MS - 1), (Tick(), DAY_MS), (Tick(), DAY_MS + 1_000)]
        log.append([serde.out(msg(n, body, at)) for n, (body, at) in enumerate(items[:4])])
        log.append([OutRecord(topics.TELEPHONY.name, b"demo", b"\x07garbage")])
        log.append([serde.out(msg(n + 4, body, at)) for n, (body, at) in enumerate(items[4:])])
    finally:
        log.close()
    return s


def _run(s: Settings, *processors: Any) -> list[Runner]:
    log, serde = open_log(s)
    runners = [Runner(p, log, serde) for p in processors]
    for r in runners:
        r.run_until_idle()
    return runners


def test_the_runner_decides_dead_letters_garbage_and_a_replay_matches(settings: Settings) -> None:
    decider, catalog = _run(settings, RecordingsProcessor(), RecordingCatalog())
    assert decider.dead_letters == 1
    log, serde = open_log(settings)
    try:
        events = [serde.decode(r.value) for r in log.read(topics.RECORDING_EVENTS.name, 0, 0, 1000)]
        events += [
            serde.decode(r.value)
            for p in range(1, log.partitions(topics.RECORDING_EVENTS.name))
            for r in log.read(topics.RECORDING_EVENTS.name, p, 0, 1000)
        ]
        kinds = [m.type for m in events]
        assert kinds.count("RecordingExpired") == 1 and kinds.count("RecordingDeleted") == 1  # c1 only, once
        (dead,) = [serde.decode(r.value).body for r in log.read(topics.DEAD_LETTER.name, 0, 0, 10)]
        assert dead.processor == "recordings" and "magic byte" in dead.reason
        result = replay_check(log, serde, RecordingsProcessor())
        assert result.ok and result.decisions == 17, result.details
    finally:
        log.close()
    statuses = {rid: e.status for rid, e in catalog.state.tenants["demo"].items()}
    assert statuses == {"c1-r1": "deleted", "c2-r1": "stored"}


def _get(app: Any, **params: str) -> httpx.Response:
    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ccx") as client:
            return await client.get("/v1/recordings", params=params)

    return asyncio.run(call())


def test_the_api_searches_and_names_bad_fields(settings: Settings) -> None:
    _decider, catalog = _run(settings, RecordingsProcessor(), RecordingCatalog())
    app = create_app(LiveView(state=lambda: None))
    assert _get(app).status_code == 503
    app.state.recordings = (lambda: catalog.state, "demo")
    everything = _get(app).json()
    assert everything["count"] == 2 and [r["recording_id"] for r in everything["recordings"]] == [
        "c2-r1",
        "c1-r1",
    ]
    (c2,) = _get(app, agent_id="a2").json()["recordings"]
    assert (c2["contact_id"], c2["paused_ms"], c2["duration_ms"], c2["location"]) == (
        "c2",
        4_000,
        60_000,
        "file:///store/c2.wav",
    )
    assert _get(app, contact_id="c1").json()["recordings"][0]["status"] == "deleted"
    window = _get(app, **{"from": "2026-01-05T08:30:00Z", "to": str(T0 + 2 * 3_600_000)}).json()
    assert [r["recording_id"] for r in window["recordings"]] == ["c2-r1"]
    assert _get(app, limit="1").json()["count"] == 1
    for params, field in (
        ({"from": "yesterday"}, "from"),
        ({"to": "13:99"}, "to"),
        ({"limit": "0"}, "limit"),
    ):
        bad = _get(app, **params)
        assert bad.status_code == 422 and field in json.dumps(bad.json()["detail"]), bad.text
    reversed_ = _get(app, **{"from": str(T0 + 10), "to": str(T0)})
    assert reversed_.status_code == 422 and "to" in reversed_.json()["detail"][0]["loc"]


def test_the_cli_replays_the_log_into_the_catalog(settings: Settings) -> None:
    def cli(*args: str) -> Any:
        return CliRunner().invoke(main, ["recordings", "search", "--data-dir", str(settings.data_dir), *args])

    table = cli()  # the recordings processor never ran: its decisions are re-made in memory
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split()[:3] == ["recording", "contact", "agents"] and len(lines) == 3
    assert "file:///store/c2.wav" in lines[1] and "deleted" in lines[2]
    rows = [json.loads(line) for line in cli("--agent", "a1", "--json").output.splitlines()]
    assert [(r["recording_id"], r["status"]) for r in rows] == [("c1-r1", "deleted")]
    assert cli("--contact", "nobody").exit_code == 1
    _run(settings, RecordingsProcessor())  # now it ran: the recorded events are read
    after = [json.loads(line) for line in cli("--from", "2026-01-05T08:30:00Z", "--json").output.splitlines()]
    assert [r["recording_id"] for r in after] == ["c2-r1"]
    bad = cli("--from", "soon")
    assert bad.exit_code == 2 and "--from" in bad.output


def test_the_local_store_files_reports_and_deletes_idempotently(tmp_path: Path) -> None:
    spool = tmp_path / "spool.wav"
    spool.write_bytes(b"RIFF....WAVE")
    store = LocalRecordingStore(tmp_path / "store")
    report = store.store("u1-r1", spool)
    path = store.path_of(report.location)
    assert path.read_bytes() == b"RIFF....WAVE" and report.size_bytes == 12
    assert report.checksum.startswith("sha256:") and report.location.startswith("file://")
    deleter = RecordingDeleter(store)
    deleted = Message(
        Envelope("e1", "demo", T0, "u1"), RecordingDeleted("u1-r1", "u1", report.location, "retention", "r")
    )
    elsewhere = Message(
        Envelope("e2", "demo", T0, "u2"), RecordingDeleted("u2-r1", "u2", "s3://b/k.wav", "dpo", "r")
    )
    deleter.write([(None, deleted), (None, elsewhere)])
    deleter.write([(None, deleted)])  # the batch again, after a crash: nothing left to do
    assert not path.exists() and deleter.deleted == 1
    for outside in ("file:///etc/passwd", f"file://{tmp_path}/store/../spool.wav", "s3://b/k"):
        with pytest.raises(OutsideStore):
            store.delete(outside)
    assert spool.exists()
