-- 024_sched_partitions.sql — the scheduler tier holds partitions by lease in PostgreSQL.
-- A cluster has a fixed number of partitions (the row of sched_cluster, written by the first scheduler); a
-- conversation's partition is id % partitions and never changes. Schedulers register in sched_nodes (live
-- while heartbeat_at > now() - lease_ms) and own partitions in sched_partitions (owned while
-- lease_until > now()); epoch grows at every change of owner. Every change of owner, and every node joining
-- or leaving, runs pg_notify('lull_sched', '').
CREATE TABLE sched_cluster (one boolean PRIMARY KEY DEFAULT true CHECK (one),
  partitions int NOT NULL CHECK (partitions BETWEEN 1 AND 4096), created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE sched_nodes (name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  inbound_endpoint text NOT NULL, worker_endpoint text NOT NULL, control_endpoint text NOT NULL,
  lease_ms int NOT NULL CHECK (lease_ms BETWEEN 100 AND 600000),
  started_at timestamptz NOT NULL DEFAULT now(), heartbeat_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE sched_partitions (partition int PRIMARY KEY, owner text, epoch bigint NOT NULL DEFAULT 0,
  lease_until timestamptz);
ALTER TABLE conversations ADD COLUMN partition int;   -- = id % sched_cluster.partitions, set on insert

-- The partition of a new conversation (256 until a scheduler created the cluster row).
CREATE FUNCTION lull_conversation_partition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.partition := NEW.id % coalesce((SELECT partitions FROM sched_cluster), 256);
  RETURN NEW;
END $$;
CREATE TRIGGER conversations_partition BEFORE INSERT ON conversations
  FOR EACH ROW EXECUTE FUNCTION lull_conversation_partition();
UPDATE conversations SET partition = id % 256 WHERE partition IS NULL;

-- Recovery and sweep read only the partitions a scheduler owns (same predicate as conversations_unanswered_idx).
CREATE INDEX conversations_unanswered_partition_idx ON conversations (partition, id)
  WHERE last_inbound_id > greatest(answered_upto, cancelled_upto);
