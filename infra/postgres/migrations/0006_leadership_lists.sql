-- The leadership dispatch list (逢"6"调度, issue 6): one per meeting day, compiled from the
-- record (supervised tickets, open clusters, repeated dissatisfaction, units most overdue).
-- Compiling the same meeting again replaces it: the list is what was outstanding when last run.
CREATE TABLE leadership_lists (
    meeting_date  date PRIMARY KEY,
    since         date        NOT NULL,
    jurisdiction  text        NOT NULL,
    compiled_at   timestamptz NOT NULL,
    counts        jsonb       NOT NULL,
    payload       jsonb       NOT NULL,
    report        text        NOT NULL
);
