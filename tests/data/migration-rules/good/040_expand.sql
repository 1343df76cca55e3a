-- Expand only: a new table, new nullable and defaulted columns, a new index, a redefined function and trigger,
-- a backfill, a widened CHECK (dropped and added again), a dropped index. Words in comments do not count: DROP TABLE x;
CREATE TABLE sample_notes (
  id         bigserial PRIMARY KEY,
  body       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE sample_notes ADD CONSTRAINT sample_notes_body_check CHECK (octet_length(body) < 1000);
ALTER TABLE conversations ADD COLUMN sample_note_id bigint REFERENCES sample_notes (id);
ALTER TABLE conversations ADD COLUMN sample_flag boolean NOT NULL DEFAULT false,
  ADD COLUMN sample_label text;
ALTER TABLE conversations ALTER COLUMN sample_label SET DEFAULT 'none';
CREATE INDEX conversations_sample_note_idx ON conversations (sample_note_id);
DROP INDEX IF EXISTS conversations_sample_old_idx;
ALTER TABLE tenants
  DROP CONSTRAINT tenants_window_ms_check,
  ADD CONSTRAINT tenants_window_ms_check CHECK (window_ms BETWEEN 0 AND 172800000);
CREATE OR REPLACE FUNCTION sample_touch() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM sample_notes WHERE id = -1;  -- inside a function body: not a statement of the migration
  NEW.sample_label := coalesce(NEW.sample_label, 'drop table ''x''; truncate y');
  RETURN NEW;
END
$fn$;
DROP TRIGGER IF EXISTS conversations_sample_touch ON conversations;
CREATE TRIGGER conversations_sample_touch BEFORE INSERT ON conversations
  FOR EACH ROW EXECUTE FUNCTION sample_touch();
UPDATE conversations SET sample_label = 'none' WHERE sample_label IS NULL;
COMMENT ON COLUMN conversations.sample_label IS 'ALTER TABLE conversations DROP COLUMN x';
