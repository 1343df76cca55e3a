-- 018_webchat_guard.sql — the web chat and the LLM budget hold against strangers.
--
-- tenants.chat_allowed_origins: the origins (scheme://host[:port], as browsers send them in Origin) whose pages may
-- use the tenant's web chat besides the ingress's own origin. Empty (the default): same-origin pages and clients
-- that send no Origin only; a request from any other origin is refused with 403.
--
-- tenants.daily_limit_tenant: a default daily LLM budget of 5000 requests per tenant instead of none, so that one
-- abuser cannot run up an unbounded bill. Tenants without a limit get it too; a tenant that set one keeps it, and
-- an operator raises or removes it through the admin API (null = unlimited).
ALTER TABLE tenants
  ADD COLUMN chat_allowed_origins text[] NOT NULL DEFAULT '{}'
    CONSTRAINT tenants_chat_allowed_origins_check
    CHECK (cardinality(chat_allowed_origins) <= 32
           AND array_position(chat_allowed_origins, NULL) IS NULL
           AND octet_length(array_to_string(chat_allowed_origins, '')) <= 32 * 256);

ALTER TABLE tenants ALTER COLUMN daily_limit_tenant SET DEFAULT 5000;
UPDATE tenants SET daily_limit_tenant = 5000 WHERE daily_limit_tenant IS NULL;
