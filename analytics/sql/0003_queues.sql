-- The latest definition of each queue (QueueDefined on cc.config-events): the highest
-- rule_version wins, so reports use the current thresholds for all of history.
CREATE TABLE IF NOT EXISTS queues
(
    tenant          LowCardinality(String),
    queue_id        String,
    name            String,
    sl_threshold_s  Int32,
    short_abandon_s Int32,
    ring_timeout_s  Int32,
    wrap_up_s       Int32,
    strategy        LowCardinality(String),
    rule_version    UInt64,
    defined_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(rule_version)
ORDER BY (tenant, queue_id);
