-- One row per contact detail record (cc.cdr). Times that never happened (0 in the CDR)
-- are NULL here; durations stay milliseconds. The latest row per contact wins.
CREATE TABLE IF NOT EXISTS contacts
(
    tenant       LowCardinality(String),
    contact_id   String,
    queue_id     LowCardinality(String),
    channel      LowCardinality(String),
    ani          String,
    dnis         String,
    priority     Int32,
    arrived_at   Nullable(DateTime64(3, 'UTC')),
    queued_at    Nullable(DateTime64(3, 'UTC')),
    answered_at  Nullable(DateTime64(3, 'UTC')),
    ended_at     Nullable(DateTime64(3, 'UTC')),
    finished_at  Nullable(DateTime64(3, 'UTC')),
    outcome      LowCardinality(String),
    end_party    LowCardinality(String),
    agent_id     String,
    offers       Int32,
    wait_ms      Int64,
    talk_ms      Int64,
    hold_ms      Int64,
    holds        Int32,
    wrap_up_ms   Int64,
    disposition  String,
    event_id     String
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, contact_id);
