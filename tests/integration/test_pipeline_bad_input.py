"""Garbage into the real pipeline (embedded log, real ACD runner): every bad record lands in
`cc.dead-letter` with a reason naming the problem, nothing is lost, processing goes on."""

from __future__ import annotations

from pathlib import Path

from ccx.bootstrap import open_pipeline
from ccx.settings import Settings
from schemas.commands import DefineAgent, DefineQueue, LogInAgent, RouteContact, SetAgentReady
from schemas.envelope import Envelope, Message
from streams import topics
from streams.ports import OutRecord


def cmd(n: int, body: object, tenant: str = "acme") -> Message[object]:
    return Message(Envelope(f"cmd-{n}", tenant, 1_767_600_000_000 + n * 1000, f"corr-{n}"), body)


def test_garbage_and_unknown_references_are_dead_lettered_and_processing_continues(tmp_path: Path) -> None:
    pipeline = open_pipeline(Settings(data_dir=tmp_path), with_warehouse=False)
    try:
        log, serde = pipeline.log, pipeline.serde
        good = [cmd(1, DefineQueue("sales", "Sales")), cmd(2, DefineAgent("a1", "Ann", ("sales",)))]
        log.append([serde.out(m) for m in good])
        log.append(
            [
                OutRecord(topics.COMMANDS.name, b"acme", b"\x07not avro at all"),
                OutRecord(topics.COMMANDS.name, b"acme", b"\x00\x00\x00\x7f\xffpayload"),
                serde.out(cmd(3, LogInAgent("ghost"))),
                serde.out(cmd(4, RouteContact("c1", "nowhere"))),
            ]
        )
        after = [cmd(5, LogInAgent("a1")), cmd(6, SetAgentReady("a1")), cmd(7, RouteContact("c2", "sales"))]
        log.append([serde.out(m) for m in after])

        pipeline.run_until_idle()

        dead = [serde.decode(r.value).body for r in log.read(topics.DEAD_LETTER.name, 0, 0, 100)]
        reasons = [d.reason for d in dead]
        assert len(dead) == 4, reasons
        assert "magic byte" in reasons[0]
        assert "unknown schema id" in reasons[1]
        assert "ghost" in reasons[2]
        assert "nowhere" in reasons[3]
        assert all(d.processor == "acd" and d.source_topic == "cc.commands" for d in dead)
        assert dead[0].value == b"\x07not avro at all"  # kept whole

        # the valid commands after the garbage were decided: c2 was offered to a1
        contact_events = []
        for p in range(log.partitions(topics.CONTACT_EVENTS.name)):
            contact_events += [serde.decode(r.value) for r in log.read(topics.CONTACT_EVENTS.name, p, 0, 100)]
        offered = [m.body for m in contact_events if m.type == "ContactOffered"]
        assert [(o.contact_id, o.agent_id) for o in offered] == [("c2", "a1")]
        assert pipeline.acd.dead_letters == 4
    finally:
        pipeline.close()
