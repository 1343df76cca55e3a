-- expect: RENAME (ALTER TABLE sample_notes) is a contract change
ALTER TABLE sample_notes RENAME TO sample_memos;
