-- The operator's desk (坐席): operator tokens and sessions (`shaobao tokens issue --role
-- operator`), and the caller's history by phone. The phone is looked up as its digits only
-- (138-0731-1234, 138 0731 1234 and 13807311234 are one number); erasure
-- (`shaobao privacy erase`) empties the caller of the received event, so an erased person's
-- tickets drop out of this index with the rest of their data.
ALTER TABLE unit_tokens DROP CONSTRAINT unit_tokens_role_check;
ALTER TABLE unit_tokens ADD CONSTRAINT unit_tokens_role_check
    CHECK (role IN ('unit', 'control_room', 'supervisor', 'intake', 'operator'));
ALTER TABLE room_sessions DROP CONSTRAINT room_sessions_role_check;
ALTER TABLE room_sessions ADD CONSTRAINT room_sessions_role_check
    CHECK (role IN ('control_room', 'supervisor', 'operator'));
CREATE INDEX ticket_events_by_caller_phone
    ON ticket_events ((regexp_replace(payload->'appeal'->'caller'->>'phone', '[^0-9]', '', 'g')))
    WHERE type = 'ticket_received';
