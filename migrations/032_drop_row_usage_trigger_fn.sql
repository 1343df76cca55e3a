-- 032_drop_row_usage_trigger_fn.sql — drops lull_usage_tenant_day(), the per-row trigger function of 026 that
-- kept usage_tenant_day in step with usage.
-- contract: lull_usage_tenant_day() unused since schema 30
--
-- 030 replaced its triggers by the statement-level lull_usage_tenant_day_stmt() and left the function defined so
-- that 030 stayed expand-only. No trigger has called it since schema 30, and no binary ever called it: binaries
-- built for schema 31 or 32 (the ones that run against this schema) never name it. The TRUNCATE trigger's function
-- lull_usage_tenant_day_truncate() of 026 is still in use and stays.
DROP FUNCTION lull_usage_tenant_day();
