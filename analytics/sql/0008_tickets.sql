-- One row per ticket event (cc.ticket-events) but SLA definitions and customer
-- notifications (those are in raw_events, the notification without its address): typed
-- columns, "" / 0 / NULL where a type has no such field. The identity is the event, so a
-- replayed batch replaces itself; `partition` and `offset` keep the decision order (all of a
-- tenant's ticket events are in one partition).
CREATE TABLE IF NOT EXISTS ticket_events
(
    tenant          LowCardinality(String),
    ticket_id       String,
    type            LowCardinality(String),
    at              DateTime64(3, 'UTC'),
    category        LowCardinality(String),
    priority        LowCardinality(String),
    department      LowCardinality(String),
    customer_id     String,
    contact_id      String,
    respond_due_at  Nullable(DateTime64(3, 'UTC')),
    resolve_due_at  Nullable(DateTime64(3, 'UTC')),
    assignee        String,
    from_status     LowCardinality(String),
    to_status       LowCardinality(String),
    which           LowCardinality(String),
    due_at          Nullable(DateTime64(3, 'UTC')),
    level           UInt32,
    automatic       UInt8,
    event_id        String,
    `partition`     UInt32,
    `offset`        UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, ticket_id, at, event_id);

-- Every ticket's current state, folded from its events in decision order (analytics.reports
-- .tickets folds the same way up to the end of a report's period).
CREATE VIEW IF NOT EXISTS tickets AS
SELECT
    tenant,
    ticket_id,
    minIf(at, type = 'TicketCreated') AS created_at,
    anyIf(category, type = 'TicketCreated') AS category,
    anyIf(priority, type = 'TicketCreated') AS priority,
    anyIf(department, type = 'TicketCreated') AS department,
    anyIf(customer_id, type = 'TicketCreated') AS customer_id,
    anyIf(contact_id, type = 'TicketCreated') AS contact_id,
    argMaxIf(assignee, `offset`, type = 'TicketAssigned') AS assignee,
    if(countIf(type = 'TicketStatusChanged') = 0, 'new',
        argMaxIf(to_status, `offset`, type = 'TicketStatusChanged')) AS status,
    anyIf(respond_due_at, type = 'TicketCreated') AS respond_due_at,
    if(countIf(type = 'TicketStatusChanged') = 0, anyIf(resolve_due_at, type = 'TicketCreated'),
        argMaxIf(resolve_due_at, `offset`, type = 'TicketStatusChanged')) AS resolve_due_at,
    toUInt8(countIf(type = 'TicketSlaBreached' AND which = 'response') > 0) AS response_breached,
    toUInt8(countIf(type = 'TicketSlaBreached' AND which = 'resolution') > 0) AS resolution_breached,
    nullIf(minIf(at, type = 'TicketAssigned'), toDateTime64(0, 3, 'UTC')) AS first_assigned_at,
    nullIf(maxIf(at, type = 'TicketStatusChanged' AND to_status = 'resolved'), toDateTime64(0, 3, 'UTC'))
        AS resolved_at,
    nullIf(maxIf(at, type = 'TicketStatusChanged' AND to_status = 'closed'), toDateTime64(0, 3, 'UTC'))
        AS closed_at,
    toUInt32(countIf(type = 'TicketStatusChanged' AND from_status IN ('resolved', 'closed'))) AS reopens,
    toUInt32(countIf(type = 'TicketEscalated')) AS escalations,
    max(level) AS escalation_level,
    max(at) AS updated_at
FROM ticket_events FINAL
GROUP BY tenant, ticket_id;

-- Survey answers name the contact's ticket ("" when it had none; answers stored before this
-- column existed read "").
ALTER TABLE surveys ADD COLUMN IF NOT EXISTS ticket_id String DEFAULT ''
