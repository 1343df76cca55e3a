-- 027_partition_trigger.sql — the partition of a new conversation without a query per row.
--
-- 024's trigger read sched_cluster for every inserted conversation; inside lull_ingress_store() that subquery cost
-- about 30 ms per call (measured: 32 ms per single-message store with it, 1.4 ms without), which made every
-- webhook that opens a conversation 20 times dearer in PostgreSQL. The trigger now holds the cluster's partition
-- count as a constant: 256 until a scheduler creates the cluster row, and the scheduler that creates it with
-- another count rewrites the function in the same transaction (scheduler/sched_lease.c), as this migration does
-- for a cluster created before it.
DO $$
BEGIN
  EXECUTE format($f$CREATE OR REPLACE FUNCTION lull_conversation_partition() RETURNS trigger LANGUAGE plpgsql AS
    'BEGIN NEW.partition := NEW.id %% %s; RETURN NEW; END'$f$,
    coalesce((SELECT partitions FROM sched_cluster), 256));
END $$;
