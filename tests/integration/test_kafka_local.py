"""infra/kafka against itself: a real broker, the `ccx kafka-local` CLI, and a 3-broker cluster that
keeps accepting acks=all writes with one broker down."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from infra.kafka.local import LocalKafka

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _create_topic(bootstrap: str, partitions: int, rf: int, config: dict[str, str] | None = None) -> str:
    topic = f"t-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, partitions, rf, config=config or {})])
    futures[topic].result(30)
    return topic


def _produce(bootstrap: str, topic: str, keys: range) -> list[str]:
    """acks=all, idempotent; returns the keys the broker acknowledged, fails on any delivery error."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "delivery.timeout.ms": 30000,
        }
    )
    acked: list[str] = []
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: object) -> None:
        if err is not None:
            errors.append(err)
        else:
            acked.append(msg.key().decode())  # type: ignore[attr-defined]

    for i in keys:
        producer.produce(topic, key=str(i).encode(), value=f"v{i}".encode(), on_delivery=on_delivery)
        producer.poll(0)
    assert producer.flush(40) == 0, "records still in flight after 40 s"
    assert errors == []
    return acked


def _consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list[str]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"g-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    keys: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while len(keys) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            key = msg.key()
            assert key is not None
            keys.append(key.decode())
    finally:
        consumer.close()
    return keys


def _port_open(hostport: str) -> bool:
    host, port = hostport.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def test_single_broker_produce_and_consume(kafka_broker: str) -> None:
    assert kafka_broker.startswith("127.0.0.1:")
    topic = _create_topic(kafka_broker, partitions=6, rf=1)
    acked = _produce(kafka_broker, topic, range(20))
    assert sorted(acked) == sorted(str(i) for i in range(20))
    assert sorted(_consume_all(kafka_broker, topic, 20)) == sorted(acked)


def test_auto_topic_creation_is_off(kafka_broker: str) -> None:
    md = AdminClient({"bootstrap.servers": kafka_broker}).list_topics(timeout=10)
    assert len(md.brokers) == 1
    producer = Producer({"bootstrap.servers": kafka_broker, "message.timeout.ms": 3000})
    errors: list[KafkaError | None] = []
    producer.produce("no-such-topic", b"x", on_delivery=lambda err, _m: errors.append(err))
    producer.flush(10)
    assert errors and errors[0] is not None  # no topic is created on first use


def test_cli_start_json_then_stop(tmp_path: Path) -> None:
    env = dict(os.environ, CCX_KAFKA_STATE=str(tmp_path / "state.json"))
    cmd = [sys.executable, "-m", "ccx.cli", "kafka-local"]
    started = subprocess.run(
        [*cmd, "start", "--json"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert started.returncode == 0, started.stderr
    info = json.loads(started.stdout)  # exactly one JSON object on stdout
    try:
        assert isinstance(info["pid"], int)
        assert info["bootstrap"].startswith("127.0.0.1:")
        assert _port_open(info["bootstrap"])
        md = AdminClient({"bootstrap.servers": info["bootstrap"]}).list_topics(timeout=10)
        assert len(md.brokers) == 1
        # a second start finds it running and says so instead of starting another broker
        again = subprocess.run(
            [*cmd, "start", "--json"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["pid"] == info["pid"]
    finally:
        stopped = subprocess.run(
            [*cmd, "stop"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )
    assert stopped.returncode == 0, stopped.stderr
    assert not Path(f"/proc/{info['pid']}").exists() or "Z" in Path(f"/proc/{info['pid']}/stat").read_text()
    assert not _port_open(info["bootstrap"])
    assert not (tmp_path / "state.json").exists()
    assert not Path(info["data_dir"]).exists()


def test_three_brokers_keep_acks_all_writes_with_one_broker_down(kafka_cluster: LocalKafka) -> None:
    bootstrap = kafka_cluster.bootstrap
    assert len(bootstrap.split(",")) == 3
    topic = _create_topic(bootstrap, partitions=3, rf=3, config={"min.insync.replicas": "2"})
    acked = _produce(bootstrap, topic, range(0, 300))
    kafka_cluster.stop_broker(1)
    try:
        assert not kafka_cluster.broker_alive(1)
        acked += _produce(bootstrap, topic, range(300, 600))  # 2 in-sync replicas: still accepted
    finally:
        kafka_cluster.start_broker(1)
    assert kafka_cluster.broker_alive(1)
    acked += _produce(bootstrap, topic, range(600, 700))
    assert len(acked) == 700
    assert sorted(_consume_all(bootstrap, topic, 700), key=int) == sorted(acked, key=int)
