-- One row per IVR event (cc.ivr-events) but the survey answers: sessions started and ended,
-- nodes entered and left, lookups. Typed columns, empty where a type has no such field.
-- The identity is the event; `partition` and `offset` keep the log's order (a contact's
-- entered/left pairs come in path order).
CREATE TABLE IF NOT EXISTS ivr_events
(
    tenant        LowCardinality(String),
    contact_id    String,
    type          LowCardinality(String),
    flow_id       LowCardinality(String),
    flow_version  UInt32,
    node_id       String,
    node_type     LowCardinality(String),
    visit         UInt32,
    exit          LowCardinality(String),
    next_node     String,
    digits        String,
    result        LowCardinality(String),
    at            DateTime64(3, 'UTC'),
    event_id      String,
    `partition`   UInt32,
    `offset`      UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, contact_id, at, event_id);

-- One row per survey answer (SurveyAnswered): a score 1-5 per contact and question. Join
-- `contacts` on (tenant, contact_id) for the agent and queue that handled the contact.
CREATE TABLE IF NOT EXISTS surveys
(
    tenant      LowCardinality(String),
    contact_id  String,
    flow_id     LowCardinality(String),
    question    String,
    score       UInt8,
    at          DateTime64(3, 'UTC'),
    event_id    String
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, contact_id, question, event_id)
