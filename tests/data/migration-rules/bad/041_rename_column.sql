-- expect: RENAME (ALTER TABLE conversations) is a contract change
ALTER TABLE conversations RENAME COLUMN sample_label TO sample_tag;
