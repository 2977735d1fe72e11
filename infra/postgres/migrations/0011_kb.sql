-- The knowledge base (知识库): each unit's answers, as `schemas.kb.KbEntry` in `body`, and every
-- version of every entry (who changed it, when, how) so a unit can see what the desk was shown.
-- A retired entry keeps its row (retired_at set) and is no longer searched; writing it again
-- brings it back with the next version.
CREATE TABLE kb_entries (
    entry_id    text PRIMARY KEY,
    unit        text        NOT NULL,
    body        jsonb       NOT NULL,  -- the KbEntry
    version     integer     NOT NULL CHECK (version >= 1),
    updated_by  text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);
CREATE INDEX kb_entries_by_unit ON kb_entries (unit);

CREATE TABLE kb_versions (
    entry_id    text        NOT NULL,
    version     integer     NOT NULL CHECK (version >= 1),
    body        jsonb,                 -- null for a retirement
    changed_by  text        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    change      text        NOT NULL CHECK (change IN ('created', 'updated', 'retired', 'imported')),
    PRIMARY KEY (entry_id, version)
);
