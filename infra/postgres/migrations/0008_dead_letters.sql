-- What an agent could not process (agents.boundary), from `dead.letters`: for the control
-- room's ops panel and reports. The topic, kept forever, stays the record; this is its copy.
CREATE TABLE dead_letters (
    dead_letter_id   text PRIMARY KEY,
    agent            text        NOT NULL,
    reason           text        NOT NULL,
    error_class      text        NOT NULL,
    error            text        NOT NULL,
    source_topic     text        NOT NULL,
    source_partition int         NOT NULL,
    source_offset    bigint      NOT NULL,
    value_length     bigint      NOT NULL,
    value_sha256     text        NOT NULL,
    truncated        boolean     NOT NULL,
    dead_at          timestamptz NOT NULL,
    letter           jsonb       NOT NULL
);
CREATE INDEX dead_letters_by_time ON dead_letters (dead_at DESC);
