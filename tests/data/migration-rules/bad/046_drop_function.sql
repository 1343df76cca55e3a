-- expect: DROP FUNCTION is a contract change
-- (a changed signature: dropped and created again with other arguments)
DROP FUNCTION sample_touch();
CREATE FUNCTION sample_touch(note bigint) RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;
