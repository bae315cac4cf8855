-- One row per closed agent state interval: the state an AgentStateChanged set, from its time
-- until the agent's next change in the log (0 ms when the next one is stamped earlier). The sink writes it
-- when the next change arrives (it looks up the agent's previous change), once: it skips
-- intervals already stored, because the view below adds every inserted row.
CREATE TABLE IF NOT EXISTS agent_state_intervals
(
    tenant         LowCardinality(String),
    agent_id       String,
    state          LowCardinality(String),
    reason         String,
    presence       LowCardinality(String),
    contact_id     String,
    started_at     DateTime64(3, 'UTC'),
    ended_at       DateTime64(3, 'UTC'),
    duration_ms    Int64,
    starts_period  UInt8,
    event_id       String,
    ended_by       String
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, agent_id, started_at, event_id);

-- Per tenant, agent and 15-minute interval (epoch-aligned UTC): time per state, not-ready
-- time and periods started by reason, offer events by kind, handled contacts and their
-- handle time. Filled by three views: state intervals (split at quarter hours), offers,
-- answered queue legs. Read with sum / sumMap GROUP BY.
CREATE TABLE IF NOT EXISTS agent_interval_tallies
(
    tenant               LowCardinality(String),
    agent_id             String,
    interval_start       DateTime('UTC'),
    available_ms         SimpleAggregateFunction(sum, Int64),
    reserved_ms          SimpleAggregateFunction(sum, Int64),
    handling_ms          SimpleAggregateFunction(sum, Int64),
    wrap_up_ms           SimpleAggregateFunction(sum, Int64),
    not_ready_ms         SimpleAggregateFunction(sum, Int64),
    not_ready_reason_ms  SimpleAggregateFunction(sumMap, Map(String, Int64)),
    not_ready_starts     SimpleAggregateFunction(sumMap, Map(String, Int64)),
    offers               SimpleAggregateFunction(sum, Int64),
    accepted             SimpleAggregateFunction(sum, Int64),
    declined             SimpleAggregateFunction(sum, Int64),
    rona                 SimpleAggregateFunction(sum, Int64),
    withdrawn            SimpleAggregateFunction(sum, Int64),
    handled              SimpleAggregateFunction(sum, Int64),
    handle_ms            SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, agent_id, interval_start);

CREATE MATERIALIZED VIEW IF NOT EXISTS agent_interval_states_mv TO agent_interval_tallies AS
SELECT
    tenant,
    agent_id,
    toDateTime(intDiv(b, 1000), 'UTC') AS interval_start,
    if(state = 'available', ms, 0) AS available_ms,
    if(state = 'reserved', ms, 0) AS reserved_ms,
    if(state = 'handling', ms, 0) AS handling_ms,
    if(state = 'wrap_up', ms, 0) AS wrap_up_ms,
    if(state = 'not_ready', ms, 0) AS not_ready_ms,
    if(state = 'not_ready' AND ms > 0, map(reason, ms), CAST(map(), 'Map(String, Int64)')) AS not_ready_reason_ms,
    if(state = 'not_ready' AND starts_period = 1 AND first = 1,
        map(reason, toInt64(1)), CAST(map(), 'Map(String, Int64)')) AS not_ready_starts
FROM
(
    -- each interval cut at quarter hours: one piece per quarter hour it overlaps (a
    -- zero-length interval still has its first piece, for the period it starts)
    SELECT tenant, agent_id, state, reason, starts_period, b,
        toInt64(least(e, b + 900000) - greatest(s, b)) AS ms,
        toUInt8(b = intDiv(s, 900000) * 900000) AS first
    FROM
    (
        SELECT tenant, agent_id, state, reason, starts_period,
            toUnixTimestamp64Milli(started_at) AS s, toUnixTimestamp64Milli(ended_at) AS e
        FROM agent_state_intervals
    )
    ARRAY JOIN range(intDiv(s, 900000) * 900000, greatest(e, s + 1), 900000) AS b
);

CREATE MATERIALIZED VIEW IF NOT EXISTS agent_interval_offers_mv TO agent_interval_tallies AS
SELECT
    tenant,
    agent_id,
    toDateTime(intDiv(toUnixTimestamp64Milli(at), 900000) * 900, 'UTC') AS interval_start,
    toInt64(kind = 'offered') AS offers,
    toInt64(kind = 'accepted') AS accepted,
    toInt64(kind = 'declined') AS declined,
    toInt64(kind = 'timed_out') AS rona,
    toInt64(kind = 'withdrawn') AS withdrawn
FROM offers;

CREATE MATERIALIZED VIEW IF NOT EXISTS agent_interval_handled_mv TO agent_interval_tallies AS
SELECT
    tenant,
    agent_id,
    toDateTime(intDiv(toUnixTimestamp64Milli(left_at), 900000) * 900, 'UTC') AS interval_start,
    toInt64(1) AS handled,
    talk_ms + hold_ms + wrap_up_ms AS handle_ms
FROM contact_legs
WHERE outcome = 'answered' AND agent_id != '';

-- Backfill a warehouse that had agent states, offers and legs before this migration. Each
-- statement only runs on an empty target, so a migration interrupted half way runs again.
INSERT INTO agent_state_intervals
    (tenant, agent_id, state, reason, presence, contact_id, started_at, ended_at, duration_ms,
     starts_period, event_id, ended_by)
SELECT
    tenant, agent_id, state, reason, presence, contact_id, at, greatest(assumeNotNull(next_at), at),
    greatest(toUnixTimestamp64Milli(assumeNotNull(next_at)) - toUnixTimestamp64Milli(at), 0),
    toUInt8(state = 'not_ready' AND NOT (prev_state = 'not_ready' AND prev_reason = reason)),
    event_id, next_event
FROM
(
    SELECT
        tenant, agent_id, state, reason, presence, contact_id, at, event_id,
        leadInFrame(toNullable(at)) OVER w AS next_at,
        leadInFrame(event_id) OVER w AS next_event,
        lagInFrame(toString(state), 1, '') OVER w AS prev_state,
        lagInFrame(reason, 1, '') OVER w AS prev_reason
    FROM agent_states FINAL
    WINDOW w AS (
        PARTITION BY tenant, agent_id ORDER BY `partition`, `offset`
        ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING
    )
)
WHERE next_at IS NOT NULL AND (SELECT count() FROM agent_state_intervals) = 0;

INSERT INTO offers
SELECT * FROM offers FINAL
WHERE (SELECT sum(offers + accepted + declined + rona + withdrawn) FROM agent_interval_tallies) = 0;

INSERT INTO agent_interval_tallies (tenant, agent_id, interval_start, handled, handle_ms)
SELECT
    tenant,
    agent_id,
    toDateTime(intDiv(toUnixTimestamp64Milli(left_at), 900000) * 900, 'UTC') AS interval_start,
    toInt64(1) AS handled,
    talk_ms + hold_ms + wrap_up_ms AS handle_ms
FROM contact_legs FINAL
WHERE outcome = 'answered' AND agent_id != '' AND (SELECT sum(handled) FROM agent_interval_tallies) = 0
