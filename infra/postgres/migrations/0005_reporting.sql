-- The record for reports (issue 7): the jurisdiction's units and towns, callbacks, whistles,
-- rejected intake records, and what the reports filter tickets by.
CREATE TABLE jurisdiction_towns (
    code          text PRIMARY KEY,
    name          text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('urban', 'rural')),
    jurisdiction  text        NOT NULL,
    version       text        NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);
-- Every unit that receives work orders: the departments, and every town (kind 'town').
CREATE TABLE jurisdiction_units (
    code          text PRIMARY KEY,
    name          text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('department', 'town')),
    role          text        NOT NULL DEFAULT '',
    jurisdiction  text        NOT NULL,
    version       text        NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);

-- Each recorded callback attempt (回访), from `callback_recorded` events.
CREATE TABLE ticket_callbacks (
    event_id     text PRIMARY KEY REFERENCES ticket_events (event_id),
    ticket_id    text        NOT NULL,
    citizen      text        NOT NULL,
    outcome      text        NOT NULL,
    solved       boolean,
    attempt      integer     NOT NULL,
    final        boolean     NOT NULL,
    operator     text        NOT NULL,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX ticket_callbacks_by_time ON ticket_callbacks (occurred_at);
CREATE INDEX ticket_callbacks_by_ticket ON ticket_callbacks (ticket_id);

-- Each unit called in by a whistle (吹哨) and when it reported in (报到), if it has.
CREATE TABLE whistle_units (
    whistle_id   text        NOT NULL,
    unit         text        NOT NULL,
    ticket_id    text        NOT NULL,
    town         text        NOT NULL,
    triggered_by text        NOT NULL,
    reason       text        NOT NULL,
    called_at    timestamptz NOT NULL,
    reported_at  timestamptz,
    PRIMARY KEY (whistle_id, unit)
);
CREATE INDEX whistle_units_waiting ON whistle_units (unit) WHERE reported_at IS NULL;
CREATE INDEX whistle_units_by_ticket ON whistle_units (ticket_id);

-- `appeals.rejected`: what intake refused, kept with its reason (nothing is dropped silently).
CREATE TABLE appeal_rejections (
    rejection_id      text PRIMARY KEY,
    reason            text        NOT NULL,
    message           text        NOT NULL,
    key               text,
    original          text        NOT NULL,
    original_encoding text        NOT NULL,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    rejected_at       timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appeal_rejections_by_time ON appeal_rejections (rejected_at);
CREATE INDEX appeal_rejections_by_reason ON appeal_rejections (reason, rejected_at);

-- The ticket's first dispatch, how often it was returned and extended, its running limits
-- (clocks) and the marks they raised (at_risk, overdue, supervise) for the queries.
ALTER TABLE tickets
    ADD COLUMN dispatched_at  timestamptz,
    ADD COLUMN returns        integer NOT NULL DEFAULT 0,
    ADD COLUMN extensions     integer NOT NULL DEFAULT 0,
    ADD COLUMN limits         jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN flags          text[]  NOT NULL DEFAULT '{}';
CREATE INDEX tickets_by_dispatch ON tickets (dispatched_at);
CREATE INDEX tickets_by_unit_dispatch ON tickets (lead_unit, dispatched_at);
CREATE INDEX tickets_open_flagged ON tickets USING gin (flags) WHERE closed_at IS NULL;
CREATE INDEX ticket_events_by_time ON ticket_events (occurred_at);
