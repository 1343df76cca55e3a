-- expect: ADD CONSTRAINT conversations_sample_flag_check on an existing table (conversations)
ALTER TABLE conversations ADD CONSTRAINT conversations_sample_flag_check CHECK (sample_flag);
