-- expect: DROP COLUMN (conversations) is a contract change
ALTER TABLE conversations ADD COLUMN sample_x text, DROP sample_label;
