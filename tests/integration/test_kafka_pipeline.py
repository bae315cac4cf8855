"""The real ACD runner over the real Kafka broker, wired exactly as `ccx run acd` wires it
(`ccx.bootstrap` with backend "kafka"): decisions come out read_committed, and a foreign
producer's garbage and a frame with an unknown schema id land in the dead-letter topic
with their reasons while the following commands are still decided."""

from __future__ import annotations

import uuid
from pathlib import Path

from ccx.bootstrap import open_pipeline
from ccx.settings import Settings
from schemas.commands import DefineAgent, DefineQueue, LogInAgent, RouteContact, SetAgentReady
from schemas.envelope import Envelope, Message
from streams import topics
from streams.ports import OutRecord


def cmd(n: int, body: object) -> Message[object]:
    return Message(Envelope(f"k-{n}", "acme", 1_767_600_000_000 + n * 1000, f"corr-{n}"), body)


def test_acd_on_kafka_decides_and_dead_letters_garbage(kafka_broker: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, backend="kafka", bootstrap=kafka_broker, namespace=f"t{uuid.uuid4().hex[:8]}."
    )
    pipeline = open_pipeline(settings, with_warehouse=False, runners=("acd",))
    try:
        log, serde = pipeline.log, pipeline.serde
        log.append(
            [
                serde.out(m)
                for m in (cmd(1, DefineQueue("sales", "Sales")), cmd(2, DefineAgent("a1", "A", ("sales",))))
            ]
        )
        log.append(
            [
                OutRecord(topics.COMMANDS.name, b"acme", b"\xffforeign producer garbage"),
                OutRecord(topics.COMMANDS.name, b"acme", b"\x00\x00\x00\x30\x39avro?"),
            ]
        )
        log.append(
            [
                serde.out(m)
                for m in (
                    cmd(3, LogInAgent("a1")),
                    cmd(4, SetAgentReady("a1")),
                    cmd(5, RouteContact("c1", "sales")),
                )
            ]
        )
        assert pipeline.acd.run_until_idle() == 7

        dead = [serde.decode(r.value).body for r in log.read(topics.DEAD_LETTER.name, 0, 0, 100)]
        assert ["magic byte" in d.reason for d in dead] == [True, False]
        assert "unknown schema id 12345" in dead[1].reason
        offers = [
            m.body
            for p in range(log.partitions(topics.CONTACT_EVENTS.name))
            for m in map(serde.decode, (r.value for r in log.read(topics.CONTACT_EVENTS.name, p, 0, 100)))
            if m.type == "ContactOffered"
        ]
        assert [(o.contact_id, o.agent_id) for o in offers] == [("c1", "a1")]
    finally:
        pipeline.close()
