-- expect: ALTER COLUMN sample_note_id SET NOT NULL (conversations) is a contract change
ALTER TABLE conversations ALTER COLUMN sample_note_id SET NOT NULL;
