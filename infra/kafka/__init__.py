"""A real Apache Kafka (KRaft) on loopback for tests and local development, without Docker."""

from infra.kafka.local import (
    DEFAULT_VERSION,
    KafkaInfo,
    KafkaLocalError,
    LocalKafka,
    ensure_kafka,
    kafka_home,
    load_state,
    state_file,
    stop_from_state,
)

__all__ = [
    "DEFAULT_VERSION",
    "KafkaInfo",
    "KafkaLocalError",
    "LocalKafka",
    "ensure_kafka",
    "kafka_home",
    "load_state",
    "state_file",
    "stop_from_state",
]
