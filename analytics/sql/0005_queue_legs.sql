-- One row per queue leg (cc.contact-legs): a contact's stint in one queue, written when its
-- numbers are final. Keyed by (tenant, contact_id, leg): a leg is written once, and the
-- sink skips legs already stored, so the materialized view below sees each leg once.
CREATE TABLE IF NOT EXISTS contact_legs
(
    tenant      LowCardinality(String),
    contact_id  String,
    leg         UInt16,
    queue_id    LowCardinality(String),
    channel     LowCardinality(String),
    priority    Int32,
    queued_at   DateTime64(3, 'UTC'),
    left_at     DateTime64(3, 'UTC'),
    outcome     LowCardinality(String),
    wait_ms     Int64,
    agent_id    String,
    talk_ms     Int64,
    hold_ms     Int64,
    holds       Int32,
    wrap_up_ms  Int64,
    to_queue    String,
    event_id    String
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, contact_id, leg);

-- processors.metrics.Tally per tenant, queue and 15-minute interval (epoch-aligned, by the
-- time the contact entered the queue): threshold-free sums and wait histograms by whole
-- seconds rounded up, so any SL or short-abandon threshold classifies them exactly. Read
-- with sum / sumMap / max GROUP BY (rows of one key merge in the background).
CREATE TABLE IF NOT EXISTS queue_interval_tallies
(
    tenant           LowCardinality(String),
    queue_id         LowCardinality(String),
    interval_start   DateTime('UTC'),
    entered          SimpleAggregateFunction(sum, Int64),
    answered         SimpleAggregateFunction(sum, Int64),
    answer_wait_ms   SimpleAggregateFunction(sum, Int64),
    answer_waits     SimpleAggregateFunction(sumMap, Map(UInt32, Int64)),
    abandon_waits    SimpleAggregateFunction(sumMap, Map(UInt32, Int64)),
    abandon_wait_ms  SimpleAggregateFunction(sumMap, Map(UInt32, Int64)),
    overflowed       SimpleAggregateFunction(sum, Int64),
    timed_out        SimpleAggregateFunction(sum, Int64),
    callback         SimpleAggregateFunction(sum, Int64),
    closed           SimpleAggregateFunction(sum, Int64),
    longest_wait_ms  SimpleAggregateFunction(max, Int64),
    handled          SimpleAggregateFunction(sum, Int64),
    talk_ms          SimpleAggregateFunction(sum, Int64),
    hold_ms          SimpleAggregateFunction(sum, Int64),
    held             SimpleAggregateFunction(sum, Int64),
    wrap_ms          SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, queue_id, interval_start);

-- The projection of one leg into a Tally is analytics.reports.tallies.LEG_TALLY, word for
-- word (a test compares them); Tally.of_leg is the same in Python.
CREATE MATERIALIZED VIEW IF NOT EXISTS queue_interval_tallies_mv TO queue_interval_tallies AS
SELECT
    tenant,
    queue_id,
    toDateTime(intDiv(toUnixTimestamp64Milli(queued_at), 900000) * 900, 'UTC') AS interval_start,
    toInt64(1) AS entered,
    toInt64(outcome = 'answered') AS answered,
    if(outcome = 'answered', wait_ms, 0) AS answer_wait_ms,
    if(outcome = 'answered', map(toUInt32(intDiv(greatest(wait_ms, 0) + 999, 1000)), toInt64(1)),
        CAST(map(), 'Map(UInt32, Int64)')) AS answer_waits,
    if(outcome = 'abandoned', map(toUInt32(intDiv(greatest(wait_ms, 0) + 999, 1000)), toInt64(1)),
        CAST(map(), 'Map(UInt32, Int64)')) AS abandon_waits,
    if(outcome = 'abandoned', map(toUInt32(intDiv(greatest(wait_ms, 0) + 999, 1000)), wait_ms),
        CAST(map(), 'Map(UInt32, Int64)')) AS abandon_wait_ms,
    toInt64(outcome = 'overflowed') AS overflowed,
    toInt64(outcome = 'timed_out') AS timed_out,
    toInt64(outcome = 'callback') AS callback,
    toInt64(outcome IN ('closed', 'full')) AS closed,
    greatest(wait_ms, 0) AS longest_wait_ms,
    toInt64(outcome = 'answered') AS handled,
    if(outcome = 'answered', talk_ms, 0) AS talk_ms,
    if(outcome = 'answered', hold_ms, 0) AS hold_ms,
    toInt64(outcome = 'answered' AND holds > 0) AS held,
    if(outcome = 'answered', wrap_up_ms, 0) AS wrap_ms
FROM contact_legs
