-- The append-only event log and the current state of each ticket.
CREATE TABLE ticket_events (
    event_id     text PRIMARY KEY,
    ticket_id    text        NOT NULL,
    version      integer     NOT NULL,
    type         text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    payload      jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ticket_id, version)
);
CREATE INDEX ticket_events_type_time ON ticket_events (type, occurred_at);

CREATE TABLE tickets (
    ticket_id    text PRIMARY KEY,
    version      integer     NOT NULL,
    status       text        NOT NULL,
    channel      text        NOT NULL,
    appeal_type  text        NOT NULL,
    category     text        NOT NULL,
    urgency      text        NOT NULL,
    town         text,
    lead_unit    text,
    co_units     text[]      NOT NULL DEFAULT '{}',
    received_at  timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    state        jsonb       NOT NULL
);
CREATE INDEX tickets_open_by_unit ON tickets (lead_unit, status);
CREATE INDEX tickets_by_status ON tickets (status, updated_at);
CREATE INDEX tickets_by_town ON tickets (town, status);
