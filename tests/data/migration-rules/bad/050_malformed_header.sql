-- expect: malformed header
-- contract: drop the old label column
ALTER TABLE conversations DROP COLUMN sample_label;
