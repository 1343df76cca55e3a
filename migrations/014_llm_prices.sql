-- 014_llm_prices.sql — the model price table the worker's cost estimates come from (usage.cost_usd and the
-- dry runs' usage). The worker reads it at start and again every LULL_WORKER_PRICES_REFRESH_MS; the longest
-- model_prefix that starts the model's name wins, among the rows of the request's provider first, then among
-- every provider's. A model no row matches costs 0. Operators change prices with SQL, e.g.
--   INSERT INTO llm_prices (provider, model_prefix, input_usd_per_mtok, output_usd_per_mtok)
--   VALUES ('openai', 'gpt-5-mini', 0.25, 2.00)
--   ON CONFLICT (provider, model_prefix) DO UPDATE SET input_usd_per_mtok = EXCLUDED.input_usd_per_mtok,
--     output_usd_per_mtok = EXCLUDED.output_usd_per_mtok, updated_at = now();
CREATE TABLE llm_prices (
  provider                   text NOT NULL CHECK (provider IN ('openai', 'anthropic', 'gemini')),
  model_prefix               text NOT NULL CHECK (octet_length(model_prefix) BETWEEN 1 AND 200),
  input_usd_per_mtok         numeric NOT NULL CHECK (input_usd_per_mtok >= 0),   -- USD per million input tokens
  output_usd_per_mtok        numeric NOT NULL CHECK (output_usd_per_mtok >= 0),  -- USD per million output tokens
  cached_input_usd_per_mtok  numeric CHECK (cached_input_usd_per_mtok >= 0),     -- NULL = priced as input
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, model_prefix)
);

INSERT INTO llm_prices (provider, model_prefix, input_usd_per_mtok, output_usd_per_mtok) VALUES
  ('openai', 'gpt-4o-mini', 0.15, 0.60),
  ('openai', 'gpt-4o', 2.50, 10.00),
  ('openai', 'gpt-4.1-nano', 0.10, 0.40),
  ('openai', 'gpt-4.1-mini', 0.40, 1.60),
  ('openai', 'gpt-4.1', 2.00, 8.00),
  ('anthropic', 'claude-3-5-haiku', 0.80, 4.00),
  ('anthropic', 'claude-3-haiku', 0.25, 1.25),
  ('anthropic', 'claude-haiku', 1.00, 5.00),
  ('anthropic', 'claude-3-5-sonnet', 3.00, 15.00),
  ('anthropic', 'claude-sonnet', 3.00, 15.00),
  ('anthropic', 'claude-opus', 15.00, 75.00),
  ('gemini', 'gemini-2.0-flash', 0.10, 0.40),
  ('gemini', 'gemini-2.5-flash', 0.30, 2.50),
  ('gemini', 'gemini-1.5-flash', 0.075, 0.30),
  ('gemini', 'gemini-2.5-pro', 1.25, 10.00);
