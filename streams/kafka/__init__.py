"""The Kafka adapter of the log port: the only package that imports confluent_kafka.

`KafkaLog` implements `EventLog` and `SchemaStore`; `admin` provisions topics from the
registry, `consumer` reads (group members and a group-less reader), `schemas` keeps schema
ids in a compacted topic or a Confluent Schema Registry.
"""

from streams.kafka.admin import CommitAborted, KafkaLogError, TopicMismatch
from streams.kafka.consumer import KafkaConsumer
from streams.kafka.log import KafkaLog
from streams.kafka.schemas import RegistrySchemaStore, TopicSchemaStore

__all__ = [
    "CommitAborted",
    "KafkaConsumer",
    "KafkaLog",
    "KafkaLogError",
    "RegistrySchemaStore",
    "TopicMismatch",
    "TopicSchemaStore",
]
