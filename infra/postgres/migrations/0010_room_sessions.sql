-- Control-room sessions kept on the server (web/room_auth.py): the cookie holds only a random
-- id, of which this table keeps the SHA-256. Logout sets ended_at; a session opened with a
-- token ends when the token is revoked (the join in infra/room_sessions.py).
CREATE TABLE room_sessions (
    session_sha256 text PRIMARY KEY,
    subject        text        NOT NULL,
    role           text        NOT NULL CHECK (role IN ('control_room', 'supervisor')),
    token_sha256   text        REFERENCES unit_tokens (token_sha256),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    ended_at       timestamptz
);
CREATE INDEX room_sessions_by_expiry ON room_sessions (expires_at);
