-- 024_sched_partitions.sql
CREATE TABLE sched_cluster (one boolean PRIMARY KEY DEFAULT true CHECK (one),
  partitions int NOT NULL CHECK (partitions BETWEEN 1 AND 4096), created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE sched_nodes (name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  inbound_endpoint text NOT NULL, worker_endpoint text NOT NULL, control_endpoint text NOT NULL,
  lease_ms int NOT NULL CHECK (lease_ms BETWEEN 100 AND 600000),
  started_at timestamptz NOT NULL DEFAULT now(), heartbeat_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE sched_partitions (partition int PRIMARY KEY, owner text, epoch bigint NOT NULL DEFAULT 0,
  lease_until timestamptz);
ALTER TABLE conversations ADD COLUMN partition int;   -- = id % sched_cluster.partitions, set on insert
-- a node is live while heartbeat_at > now() - lease_ms; a partition is owned while lease_until > now().
-- Every change of owner, and every node joining or leaving, runs pg_notify('lull_sched', '').
