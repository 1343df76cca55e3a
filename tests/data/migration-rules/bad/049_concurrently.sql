-- expect: CONCURRENTLY (scripts/migrate runs each file in a transaction)
CREATE INDEX CONCURRENTLY conversations_sample_flag_idx ON conversations (sample_flag);
