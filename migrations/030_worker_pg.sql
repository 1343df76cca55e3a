-- 030_worker_pg.sql — less PostgreSQL work per reply: the running total of usage kept per statement.
--
-- usage_tenant_day (026) was kept by a row-level plpgsql trigger on usage: one function call and one upsert of
-- usage_tenant_day for every usage row written, ~15-30 µs per reply (pg_stat_statements, scripts/bench/worker),
-- now that the worker writes the replies of a whole batch in one statement (worker/worker_commit_rows.c). The
-- same sums are kept by statement-level triggers over the statement's transition tables: one upsert per
-- statement and per tenant and day it touched. Same contract as 026: usage_tenant_day sums usage's requests per
-- tenant and day exactly, for every writer (the worker, an older worker binary, rows written by hand or by
-- tests), in rows of the writing backend (backend = pg_backend_pid(): two backends never wait on each other's
-- row). A statement-level trigger with transition tables serves one event, hence three triggers; the TRUNCATE
-- one of 026 stays. lull_usage_tenant_day() of 026 is left defined, unused.
CREATE FUNCTION lull_usage_tenant_day_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO usage_tenant_day AS t (tenant_id, day, backend, requests)
      SELECT tenant_id, day, pg_backend_pid(), sum(requests) FROM lull_new GROUP BY tenant_id, day
      HAVING sum(requests) <> 0
      ON CONFLICT (tenant_id, day, backend) DO UPDATE SET requests = t.requests + EXCLUDED.requests;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO usage_tenant_day AS t (tenant_id, day, backend, requests)
      SELECT tenant_id, day, pg_backend_pid(), sum(r) FROM (SELECT tenant_id, day, requests::bigint AS r FROM lull_new
        UNION ALL SELECT tenant_id, day, -requests::bigint FROM lull_old) d GROUP BY tenant_id, day HAVING sum(r) <> 0
      ON CONFLICT (tenant_id, day, backend) DO UPDATE SET requests = t.requests + EXCLUDED.requests;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO usage_tenant_day AS t (tenant_id, day, backend, requests)
      SELECT tenant_id, day, pg_backend_pid(), -sum(requests) FROM lull_old GROUP BY tenant_id, day
      HAVING sum(requests) <> 0
      ON CONFLICT (tenant_id, day, backend) DO UPDATE SET requests = t.requests + EXCLUDED.requests;
  END IF;
  RETURN NULL;
END
$$;

-- The row trigger goes and the statement triggers come in one transaction (the migration's): no writer of
-- usage is counted twice or missed.
DROP TRIGGER usage_tenant_day_rows ON usage;
CREATE TRIGGER usage_tenant_day_ins AFTER INSERT ON usage REFERENCING NEW TABLE AS lull_new
  FOR EACH STATEMENT EXECUTE FUNCTION lull_usage_tenant_day_stmt();
CREATE TRIGGER usage_tenant_day_upd AFTER UPDATE ON usage REFERENCING OLD TABLE AS lull_old NEW TABLE AS lull_new
  FOR EACH STATEMENT EXECUTE FUNCTION lull_usage_tenant_day_stmt();
CREATE TRIGGER usage_tenant_day_del AFTER DELETE ON usage REFERENCING OLD TABLE AS lull_old
  FOR EACH STATEMENT EXECUTE FUNCTION lull_usage_tenant_day_stmt();
