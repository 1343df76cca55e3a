-- expect: DROP COLUMN (conversations) is a contract change
ALTER TABLE conversations DROP COLUMN sample_label;
