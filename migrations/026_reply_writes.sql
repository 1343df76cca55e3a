-- 026_reply_writes.sql — less PostgreSQL work per answered conversation (measured with scripts/bench/worker and
-- pg_stat_statements, see docs/worker.md "Performance").
--
-- 1. The tenant's LLM requests of the day, kept as a running total. The worker's load read
--    sum(requests) FROM usage WHERE tenant_id = … AND day = current_date for every job of a tenant with a
--    daily limit (every tenant since 018: the default limit is 5000): one usage row per contact per day per
--    model, so the cost of each job grew with the number of the tenant's contacts served that day (0.4 ms
--    per job after 1,500 contacts, tens of ms on a busy day). usage_tenant_day holds the same sum, split per
--    database backend that wrote it (backend = pg_backend_pid() of the writer): a backend only ever updates
--    its own rows, so two workers committing replies of one tenant never wait on each other's row lock and
--    never deadlock on it; the sum for a tenant and a day reads a handful of rows. A trigger on usage keeps
--    it exact for every writer (the worker's commit, and rows written by hand or by tests). The worker
--    reads sum(requests) FROM usage_tenant_day instead.
-- 2. Fillfactor below 100 on the tables updated on every reply or delivery (conversations, outbox, usage,
--    usage_tenant_day), so an updated row can stay on its page: a HOT update when no indexed column changes
--    (usage: the upsert's counters; usage_tenant_day: its requests), and for conversations and outbox (whose
--    partial indexes conversations_unanswered_idx and outbox_due_idx make the reply's and the delivery's
--    updates non-HOT by design: the scheduler's recovery and the sender's claim depend on them) at least no
--    new page per update. It applies to pages filled from now on.
-- No index is dropped: each one is read by a query (checked: conversations_tenant_idx by lull-admin's lists,
-- conversations_not_open_idx and conversations_paused_idx by the inbox, usage_tenant_day_idx by lull-admin's
-- usage and stats, outbox_conversation_idx / outbox_message_idx / analyses_message_idx by the cascades of
-- foreign keys and by lull-admin's conversation view).

CREATE TABLE usage_tenant_day (
  tenant_id bigint NOT NULL,
  day       date NOT NULL,
  backend   int NOT NULL,            -- pg_backend_pid() of the writer (0: the rows summed at migration time)
  requests  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day, backend)
) WITH (fillfactor = 50);

CREATE FUNCTION lull_usage_tenant_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.tenant_id = NEW.tenant_id AND OLD.day = NEW.day THEN
    IF NEW.requests <> OLD.requests THEN
      INSERT INTO usage_tenant_day AS t (tenant_id, day, backend, requests)
        VALUES (NEW.tenant_id, NEW.day, pg_backend_pid(), NEW.requests - OLD.requests)
        ON CONFLICT (tenant_id, day, backend) DO UPDATE SET requests = t.requests + EXCLUDED.requests;
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.requests <> 0 THEN
    INSERT INTO usage_tenant_day AS t (tenant_id, day, backend, requests)
      VALUES (OLD.tenant_id, OLD.day, pg_backend_pid(), -OLD.requests)
      ON CONFLICT (tenant_id, day, backend) DO UPDATE SET requests = t.requests + EXCLUDED.requests;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.requests <> 0 THEN
    INSERT INTO usage_tenant_day AS t (tenant_id, day, backend, requests)
      VALUES (NEW.tenant_id, NEW.day, pg_backend_pid(), NEW.requests)
      ON CONFLICT (tenant_id, day, backend) DO UPDATE SET requests = t.requests + EXCLUDED.requests;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION lull_usage_tenant_day_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE usage_tenant_day;
  RETURN NULL;
END
$$;

-- No writer may slip between the backfill and the trigger.
LOCK TABLE usage IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO usage_tenant_day (tenant_id, day, backend, requests)
  SELECT tenant_id, day, 0, sum(requests) FROM usage GROUP BY tenant_id, day HAVING sum(requests) <> 0;
CREATE TRIGGER usage_tenant_day_rows AFTER INSERT OR UPDATE OR DELETE ON usage
  FOR EACH ROW EXECUTE FUNCTION lull_usage_tenant_day();
CREATE TRIGGER usage_tenant_day_truncate AFTER TRUNCATE ON usage
  FOR EACH STATEMENT EXECUTE FUNCTION lull_usage_tenant_day_truncate();

ALTER TABLE conversations SET (fillfactor = 80);
ALTER TABLE outbox SET (fillfactor = 80);
ALTER TABLE usage SET (fillfactor = 80);
