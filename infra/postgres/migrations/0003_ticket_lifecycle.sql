-- The ticket lifecycle (issue 5): when it was signed, completed and closed, how it ended,
-- how often it was reworked, the callback of its own caller, and what it was merged into.
-- Units look up their open orders as lead (lead_unit) or as co unit (co_units).
ALTER TABLE tickets
    ADD COLUMN signed_at     timestamptz,
    ADD COLUMN completed_at  timestamptz,
    ADD COLUMN closed_at     timestamptz,
    ADD COLUMN resolution    text,
    ADD COLUMN satisfaction  text,
    ADD COLUMN rework_count  integer NOT NULL DEFAULT 0,
    ADD COLUMN merged_into   text;
CREATE INDEX tickets_by_co_unit ON tickets USING gin (co_units);
CREATE INDEX tickets_closed ON tickets (closed_at) WHERE closed_at IS NOT NULL;
