-- 015_tenant_limits.sql — the tenant limits of common/lull_tenant_limits.h as CHECK constraints, so that the
-- database, the admin API and the worker agree: a value lull accepts is honoured, one it cannot honour is
-- refused. tests/unit/test_tenant_limits.c writes every boundary (and one step past it) to prove these bounds
-- equal the header's.
--
-- Rows outside the new bounds (only possible through SQL) are first set to what the worker made of them:
-- windows and waits over a day were clamped to a day; history_len under 1 loaded one message; max_tokens over
-- the limit was replaced by 512; an unusable model name or models entry was ignored; unknown or repeated
-- provider names were skipped; max_retries over 1000 fell back to the process default.

CREATE FUNCTION lull_tenant_models_ok(m jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_typeof(m) = 'object' AND NOT EXISTS (
    SELECT 1 FROM jsonb_each(m) e
    WHERE e.key NOT IN ('openai', 'anthropic', 'gemini') OR jsonb_typeof(e.value) <> 'string'
       OR octet_length(e.value #>> '{}') NOT BETWEEN 1 AND 200)
$$;

CREATE FUNCTION lull_tenant_chain_ok(c text[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(cardinality(c), 0) <= 3 AND c <@ ARRAY['openai', 'anthropic', 'gemini']::text[]
     AND (SELECT count(DISTINCT p) FROM unnest(c) p) = coalesce(cardinality(c), 0)
$$;

UPDATE tenants SET window_ms = 86400000 WHERE window_ms > 86400000;
UPDATE tenants SET max_wait_ms = 86400000 WHERE max_wait_ms > 86400000;
UPDATE tenants SET history_len = greatest(1, least(history_len, 500)) WHERE history_len NOT BETWEEN 1 AND 500;
UPDATE tenants SET max_tokens = 512 WHERE max_tokens > 200000;
UPDATE tenants SET human_pause_ms = 2592000000 WHERE human_pause_ms > 2592000000;
UPDATE tenants SET max_attempts = 100 WHERE max_attempts > 100;
UPDATE tenants SET daily_limit_tenant = 1000000000 WHERE daily_limit_tenant > 1000000000;
UPDATE tenants SET daily_limit_contact = 1000000000 WHERE daily_limit_contact > 1000000000;
UPDATE tenants SET retry_base_ms = 86400000 WHERE retry_base_ms > 86400000;
UPDATE tenants SET retry_max_ms = 86400000 WHERE retry_max_ms > 86400000;
UPDATE tenants SET max_retries = NULL WHERE max_retries > 1000;
UPDATE tenants SET model = NULL WHERE octet_length(model) NOT BETWEEN 1 AND 200;
UPDATE tenants SET models = (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb) FROM jsonb_each(models) e
                             WHERE lull_tenant_models_ok(jsonb_build_object(e.key, e.value)))
  WHERE NOT lull_tenant_models_ok(models);
UPDATE tenants SET provider_chain = ARRAY(
    SELECT x.p FROM (SELECT u.p, min(u.o) AS o FROM unnest(provider_chain) WITH ORDINALITY AS u(p, o)
                     WHERE u.p IN ('openai', 'anthropic', 'gemini') GROUP BY u.p) x ORDER BY x.o LIMIT 3)
  WHERE NOT lull_tenant_chain_ok(provider_chain);
UPDATE prompts SET template = left(template, 25000) WHERE octet_length(template) > 100000;
UPDATE prompts SET template = 'You are {{agent_name}}, the assistant of {{company_name}}.' WHERE template = '';

ALTER TABLE tenants
  DROP CONSTRAINT tenants_window_ms_check,
  ADD CONSTRAINT tenants_window_ms_check CHECK (window_ms BETWEEN 0 AND 86400000),
  DROP CONSTRAINT tenants_max_wait_ms_check,
  ADD CONSTRAINT tenants_max_wait_ms_check CHECK (max_wait_ms BETWEEN 0 AND 86400000),
  DROP CONSTRAINT tenants_history_len_check,
  ADD CONSTRAINT tenants_history_len_check CHECK (history_len BETWEEN 1 AND 500),
  DROP CONSTRAINT tenants_max_tokens_check,
  ADD CONSTRAINT tenants_max_tokens_check CHECK (max_tokens BETWEEN 1 AND 200000),
  DROP CONSTRAINT tenants_human_pause_ms_check,
  ADD CONSTRAINT tenants_human_pause_ms_check CHECK (human_pause_ms BETWEEN 0 AND 2592000000),
  DROP CONSTRAINT tenants_max_attempts_check,
  ADD CONSTRAINT tenants_max_attempts_check CHECK (max_attempts BETWEEN 0 AND 100),
  DROP CONSTRAINT tenants_daily_limit_tenant_check,
  ADD CONSTRAINT tenants_daily_limit_tenant_check CHECK (daily_limit_tenant BETWEEN 0 AND 1000000000),
  DROP CONSTRAINT tenants_daily_limit_contact_check,
  ADD CONSTRAINT tenants_daily_limit_contact_check CHECK (daily_limit_contact BETWEEN 0 AND 1000000000),
  DROP CONSTRAINT tenants_retry_base_ms_check,
  ADD CONSTRAINT tenants_retry_base_ms_check CHECK (retry_base_ms BETWEEN 0 AND 86400000),
  DROP CONSTRAINT tenants_retry_max_ms_check,
  ADD CONSTRAINT tenants_retry_max_ms_check CHECK (retry_max_ms BETWEEN 0 AND 86400000),
  DROP CONSTRAINT tenants_max_retries_check,
  ADD CONSTRAINT tenants_max_retries_check CHECK (max_retries BETWEEN 0 AND 1000),
  ADD CONSTRAINT tenants_model_check CHECK (octet_length(model) BETWEEN 1 AND 200),
  ADD CONSTRAINT tenants_models_check CHECK (lull_tenant_models_ok(models)),
  ADD CONSTRAINT tenants_provider_chain_check CHECK (lull_tenant_chain_ok(provider_chain));
-- temperature (0..2) and confidence_threshold (0..1) keep their CHECKs of 001_init.sql.

ALTER TABLE prompts ADD CONSTRAINT prompts_template_check CHECK (octet_length(template) BETWEEN 1 AND 100000);
