-- Lookups of the HTTP front doors: a ticket by its intake key (channel:source_id), and
-- Open311's `GET requests` by time window and service code.
CREATE INDEX tickets_by_intake_key ON tickets (channel, (state->'appeal'->>'source_id'));
CREATE INDEX tickets_by_received ON tickets (received_at);
CREATE INDEX tickets_by_category ON tickets (category, received_at);
