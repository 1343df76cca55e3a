-- Sample tenant for `make run` and scripts/demo (idempotent): the default tenant becomes a small clothing
-- shop with a prompt, a 30 s window (scripts/stack applies LULL_WINDOW_MS / LULL_MAX_WAIT_MS afterwards),
-- escalation keywords and fields to extract.
BEGIN;
UPDATE tenants
   SET name = 'Demo shop', company_name = 'Lull Outfitters', agent_name = 'Lou',
       window_ms = 30000, max_wait_ms = 120000,
       escalation_keywords = '{manager,lawyer,"speak to a human"}',
       extraction_fields = '[{"name": "order_number", "description": "an order number the customer mentions"}]'
 WHERE slug = 'default';

INSERT INTO prompts (tenant_id, name, version, active, template)
SELECT id, 'default', 1, true,
       'You are {{agent_name}}, the friendly assistant of {{company_name}}, a small clothing shop. '
       || 'You are talking to {{customer_name}} on {{channel}}. Answer briefly and warmly, in the customer''s '
       || 'language. Several messages in a row are one request: answer all of them in one reply. When the '
       || 'customer asks about a product, use search_inventory and only offer items it returns as available. '
       || 'Never invent prices, stock or policies; if unsure, say a colleague will follow up.'
  FROM tenants WHERE slug = 'default'
ON CONFLICT (tenant_id, name, version) DO UPDATE SET template = EXCLUDED.template, active = true;

UPDATE tenants t SET prompt_id = p.id
  FROM prompts p
 WHERE t.slug = 'default' AND p.tenant_id = t.id AND p.name = 'default' AND p.version = 1;
COMMIT;
