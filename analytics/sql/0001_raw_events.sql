-- Every message the sink reads, for audit and ad-hoc questions. One row per log record:
-- the ordering key is the record's log position, so a replayed batch replaces itself.
CREATE TABLE IF NOT EXISTS raw_events
(
    topic          LowCardinality(String),
    partition      UInt32,
    offset         UInt64,
    key            String,
    event_id       String,
    type           LowCardinality(String),
    tenant         LowCardinality(String),
    occurred_at    DateTime64(3, 'UTC'),
    correlation_id String,
    causation_id   Nullable(String),
    actor          String,
    payload        String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
ORDER BY (topic, partition, offset);
