-- The "next release" migration of tests/it/test_upgrade.sh and scripts/upgrade-check, written as the rule of
-- docs/operations.md ("Upgrades without downtime") says a real next migration would be: expand only. The test
-- copies it into a migrations directory under the number current+1. Binaries built for the current schema keep
-- running against it; the trigger fills the new column for the rows they write.
CREATE TABLE upgrade_notes (
  id              bigserial PRIMARY KEY,
  conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  note            text NOT NULL CHECK (octet_length(note) BETWEEN 1 AND 2000),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upgrade_notes_conversation_idx ON upgrade_notes (conversation_id);

-- a new nullable column, and one with a constant default
ALTER TABLE messages ADD COLUMN upgrade_body_bytes int;
ALTER TABLE conversations ADD COLUMN upgrade_tier text NOT NULL DEFAULT 'standard';
-- a new index
CREATE INDEX messages_upgrade_body_bytes_idx ON messages (upgrade_body_bytes) WHERE upgrade_body_bytes > 1000;

-- a function redefined compatibly (same signature and results for every status it knew, one status more)
CREATE OR REPLACE FUNCTION lull_twilio_status_rank(s text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE s WHEN 'accepted' THEN 10 WHEN 'scheduled' THEN 10 WHEN 'queued' THEN 20 WHEN 'sending' THEN 30
                WHEN 'receiving' THEN 30 WHEN 'received' THEN 35 WHEN 'sent' THEN 40 WHEN 'delivered' THEN 50
                WHEN 'undelivered' THEN 50 WHEN 'failed' THEN 50 WHEN 'canceled' THEN 50
                WHEN 'partially_delivered' THEN 50 WHEN 'read' THEN 60 WHEN 'upgrade_probe' THEN 5 ELSE 0 END
$$;

-- a new function and a trigger filling the new column, so that rows written by old binaries get it too
CREATE FUNCTION lull_messages_upgrade_body_bytes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.upgrade_body_bytes := octet_length(NEW.body);
  RETURN NEW;
END
$$;
CREATE TRIGGER messages_upgrade_body_bytes BEFORE INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION lull_messages_upgrade_body_bytes();
-- the backfill of the rows written before
UPDATE messages SET upgrade_body_bytes = octet_length(body) WHERE upgrade_body_bytes IS NULL;
