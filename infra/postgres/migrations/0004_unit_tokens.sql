-- HTTP API tokens: one per unit system (role `unit`) or control-room desk (`control_room`,
-- `supervisor`). Only the SHA-256 of a token is kept; the token is shown once, when issued.
CREATE TABLE unit_tokens (
    token_sha256  text PRIMARY KEY,
    subject       text        NOT NULL,  -- the unit code, or the control-room operator
    role          text        NOT NULL CHECK (role IN ('unit', 'control_room', 'supervisor')),
    label         text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX unit_tokens_by_subject ON unit_tokens (subject);
