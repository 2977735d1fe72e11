-- Intake keys (role `intake`): one per channel and client, for `POST /api/appeals` and Open311
-- `POST requests` (`shaobao tokens issue --intake CHANNEL --name NAME`). The subject is
-- `channel:name`: the key fixes the channel and namespaces the client's source ids.
ALTER TABLE unit_tokens DROP CONSTRAINT unit_tokens_role_check;
ALTER TABLE unit_tokens ADD CONSTRAINT unit_tokens_role_check
    CHECK (role IN ('unit', 'control_room', 'supervisor', 'intake'));
