-- 022_llm_economy.sql — one LLM call per burst, prompt caching and history by token budget.
--
-- tenants.llm_mode: 'combined' (default) asks for the reply and the analysis in one structured answer;
-- 'separate' makes two calls (the reply, then the analysis in parallel), as before; 'off' makes the reply
-- only (no analysis). tenants.history_tokens bounds the history sent to the model by an estimate of its
-- tokens (the messages not answered yet always go, whatever their size), on top of history_len.
-- usage gains the cached prompt tokens (read from a provider's prompt cache) and the prompt tokens written
-- to the cache (Anthropic's cache writes), both part of prompt_tokens. llm_prices gains the price of a cache
-- write (NULL: 1.25 × input for Anthropic, as input elsewhere) and the cached-input prices of the seeded
-- models where none was set (the providers' published discounts).
ALTER TABLE tenants ADD COLUMN llm_mode text NOT NULL DEFAULT 'combined'
  CHECK (llm_mode IN ('combined', 'separate', 'off'));
ALTER TABLE tenants ADD COLUMN history_tokens bigint NOT NULL DEFAULT 3000
  CHECK (history_tokens BETWEEN 100 AND 1000000);

ALTER TABLE usage ADD COLUMN cached_prompt_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;

ALTER TABLE llm_prices ADD COLUMN cache_write_usd_per_mtok numeric CHECK (cache_write_usd_per_mtok >= 0);

UPDATE llm_prices SET cached_input_usd_per_mtok = CASE
    WHEN provider = 'openai' AND model_prefix LIKE 'gpt-4.1%' THEN input_usd_per_mtok * 0.25
    WHEN provider = 'openai' THEN input_usd_per_mtok * 0.5
    WHEN provider = 'anthropic' THEN input_usd_per_mtok * 0.1
    ELSE input_usd_per_mtok * 0.25 END
  WHERE cached_input_usd_per_mtok IS NULL
    AND (provider, model_prefix) IN (('openai', 'gpt-4o-mini'), ('openai', 'gpt-4o'), ('openai', 'gpt-4.1-nano'),
      ('openai', 'gpt-4.1-mini'), ('openai', 'gpt-4.1'), ('anthropic', 'claude-3-5-haiku'),
      ('anthropic', 'claude-3-haiku'), ('anthropic', 'claude-haiku'), ('anthropic', 'claude-3-5-sonnet'),
      ('anthropic', 'claude-sonnet'), ('anthropic', 'claude-opus'), ('gemini', 'gemini-2.0-flash'),
      ('gemini', 'gemini-2.5-flash'), ('gemini', 'gemini-1.5-flash'), ('gemini', 'gemini-2.5-pro'));
