-- expect: ADD COLUMN … NOT NULL without a DEFAULT (conversations; inserts of old binaries would fail)
ALTER TABLE conversations ADD COLUMN sample_rank int NOT NULL;
