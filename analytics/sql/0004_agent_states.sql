-- One row per AgentStateChanged (cc.agent-events): the agent's exclusive METRICS.md state
-- from `at` until the agent's next row. The identity is the event (its id is derived from
-- the command, so a replay or a rebuilt log writes the same id): a replayed batch replaces
-- itself. `partition` and `offset` are the record's log position, the decision order of
-- events that share a millisecond (event ids are UUIDs and do not sort by time).
CREATE TABLE IF NOT EXISTS agent_states
(
    tenant      LowCardinality(String),
    agent_id    String,
    at          DateTime64(3, 'UTC'),
    state       LowCardinality(String),
    previous    LowCardinality(String),
    reason      String,
    contact_id  String,
    presence    LowCardinality(String),
    event_id    String,
    partition   UInt32,
    offset      UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, agent_id, at, event_id);

-- One row per offer event of an agent (cc.contact-events): ContactOffered, OfferAccepted,
-- OfferDeclined, OfferTimedOut, OfferWithdrawn as kind offered, accepted, declined,
-- timed_out, withdrawn. Keyed like agent_states, so a replayed batch replaces itself.
CREATE TABLE IF NOT EXISTS offers
(
    tenant      LowCardinality(String),
    agent_id    String,
    at          DateTime64(3, 'UTC'),
    kind        LowCardinality(String),
    contact_id  String,
    event_id    String
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, agent_id, at, event_id);
