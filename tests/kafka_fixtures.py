"""Real Apache Kafka fixtures (infra/kafka): a single broker and a 3-broker KRaft cluster on loopback.

Both start real JVM brokers (resolving the jars with Maven the first time) and never skip: a machine
without Java and Maven fails here with the reason (install them: infra/kafka/ensure-java.sh).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.kafka.local import LocalKafka

__all__ = ["kafka_broker", "kafka_cluster"]


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """One real broker for the whole session; yields its bootstrap string ``127.0.0.1:PORT``."""
    with LocalKafka(brokers=1) as kafka:
        yield kafka.bootstrap


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[LocalKafka]:
    """A 3-broker KRaft cluster (every node also a controller); yields the LocalKafka, whose
    ``stop_broker(i)`` / ``start_broker(i)`` (0-based) drive fault tests. A test that stops a broker
    must start it again before it ends (the cluster is shared by the session)."""
    with LocalKafka(brokers=3) as kafka:
        yield kafka
