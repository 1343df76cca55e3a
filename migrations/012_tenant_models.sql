-- 012_tenant_models.sql — a model per provider for each tenant.
-- tenants.model applies to the first provider of the chain only (a model name belongs to one provider);
-- tenants.models {"openai":"gpt-4o","anthropic":"claude-sonnet-4-5","gemini":"gemini-2.5-flash"} names the
-- model of any provider, fallbacks included. An entry here wins over tenants.model; a provider with neither
-- uses the worker's default (LULL_<PROVIDER>_MODEL).
ALTER TABLE tenants ADD COLUMN models jsonb NOT NULL DEFAULT '{}'::jsonb
  CONSTRAINT tenants_models_object CHECK (jsonb_typeof(models) = 'object');
