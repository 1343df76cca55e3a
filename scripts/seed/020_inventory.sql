-- Sample inventory of the default tenant for `make run` and scripts/demo (idempotent: upsert by SKU).
INSERT INTO inventory (tenant_id, sku, name, description, category, size, price, currency, status)
SELECT t.id, v.sku, v.name, v.description, v.category, v.size, v.price, 'USD', v.status
  FROM tenants t,
       (VALUES ('JK-100', 'Blue rain jacket', 'Waterproof hooded rain jacket, navy blue', 'jackets', 'M', 89.00, 'available'),
               ('JK-101', 'Blue rain jacket', 'Waterproof hooded rain jacket, navy blue', 'jackets', 'L', 89.00, 'available'),
               ('JK-200', 'Denim jacket', 'Classic stonewashed denim jacket', 'jackets', 'S', 65.00, 'sold'),
               ('BT-300', 'Leather boots', 'Brown leather ankle boots', 'shoes', '42', 120.00, 'available'),
               ('SC-400', 'Wool scarf', 'Soft merino scarf, grey', 'accessories', NULL, 25.00, 'available'),
               ('HT-500', 'Straw hat', 'Wide-brim summer hat', 'accessories', NULL, 30.00, 'reserved'))
         AS v (sku, name, description, category, size, price, status)
 WHERE t.slug = 'default'
ON CONFLICT (tenant_id, sku) DO UPDATE
   SET name = EXCLUDED.name, description = EXCLUDED.description, category = EXCLUDED.category,
       size = EXCLUDED.size, price = EXCLUDED.price, status = EXCLUDED.status, updated_at = now();
