-- 028_cleanup.sql — loose ends: one index of the unanswered set; the price of the new default Gemini model;
-- usage_tenant_day pruned by day.
-- (Dropping an index is an expand-safe change: binaries of schema 27 name no index; their queries read the
-- primary key instead.)
--
-- 1. conversations_unanswered_idx (id) of 001 and conversations_unanswered_partition_idx (partition, id) of 024
--    have the same predicate (last_inbound_id > greatest(answered_upto, cancelled_upto)), so every reply and
--    every inbound message changed an entry of both. The scheduler's recovery and sweep, the only queries with
--    that predicate, now page in (partition, id) order (the row comparison `(partition, id) > ($1, $2)`), which
--    the partition index serves in the lease mode (with `partition = ANY(…)`) and in the static-shard mode
--    (every partition): checked with EXPLAIN, an index scan of conversations_unanswered_partition_idx with no
--    sort in both (tests/it/test_db.sh). Dropping an index is safe for a binary of the previous schema: its
--    queries stay correct (they read the primary key instead).
DROP INDEX IF EXISTS conversations_unanswered_idx;

-- 2. gemini-2.0-flash is shut down; the worker's default Gemini model is now gemini-3.1-flash-lite (the Gemini
--    API's stable Flash-Lite: $0.25 input, $1.50 output, $0.025 cached input per million tokens). A price an
--    operator already set stays.
INSERT INTO llm_prices (provider, model_prefix, input_usd_per_mtok, output_usd_per_mtok, cached_input_usd_per_mtok)
  VALUES ('gemini', 'gemini-3.1-flash-lite', 0.25, 1.50, 0.025)
  ON CONFLICT (provider, model_prefix) DO NOTHING;

-- 3. The worker deletes the rows of usage_tenant_day older than LULL_USAGE_DAYS_KEEP days, a bounded batch at
--    a time (the running total is read for today only; usage keeps the history). This index finds them without
--    reading the table; day never changes in a row, so the updates of requests stay HOT.
CREATE INDEX IF NOT EXISTS usage_tenant_day_day_idx ON usage_tenant_day (day);
