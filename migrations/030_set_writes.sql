-- 030_set_writes.sql — less PostgreSQL work per webhook and per reply, in two parts:
-- part 1, lull_ingress_store (ingress); part 2, usage_tenant_day's triggers (the worker's commit).
--
-- Part 1.
-- lull_ingress_store starts only the plans a batch uses and no longer joins the batch's
-- rows with the inserted ones by nested loops (PostgreSQL's work per webhook, measured with scripts/bench/store and scripts/bench/ingress:
-- docs/ingress.md "Performance").
--
-- Same signature, same outcomes, same state (docs/contracts.md); redefined here (029 defined it last). Steps 1-3
-- are 029's. Step 4 was one statement holding the messages insert, the new conversations insert, the update of the
-- existing conversations, the update of the existing contacts and the outcomes: every call initialised and finished
-- all of their plans, whatever the batch held, and the function's nested-loop plans joined every row with every
-- inserted message twice (rows x inserted rows comparisons). Now:
-- - step 4 inserts the messages and the new conversations and computes the outcomes into arrays, in one statement;
--   a row is "stored" when its reserved id is in the array of the ids the insert returned (one test per row);
-- - 4b and 4c update the existing conversations and contacts of the rows stored, as statements of their own run only
--   when the batch has such rows (a batch of new contacts does not start them);
-- - the function returns the arrays (unnest): the last statement is a function scan, no join.
CREATE OR REPLACE FUNCTION lull_ingress_store(batch jsonb)
RETURNS TABLE (i int, outcome text, tenant_id bigint, contact_id bigint, conversation_id bigint, message_id bigint,
               window_ms int)
LANGUAGE plpgsql
-- The plans are cached for the session and may have been made when the tables were empty (a fresh database):
-- keep them on index probes (nested loops over the batch's few rows), and do not re-plan every call.
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
DECLARE
  rows lull_ingress_work[];
  need_k boolean;      -- some rows name a contact that does not exist yet
  need_probe boolean;  -- some of those were created meanwhile by another session
  need_conv boolean;   -- some rows name an existing contact without a conversation
  quiet_i int[];  -- rows stored without asking for a reply (reactions; unsupported types the tenant ignores)
  ins_ids bigint[];     -- the messages really inserted (not duplicates)
  upd_conv boolean;     -- some were stored in an existing conversation
  upd_contact boolean;  -- some are an existing contact's inbound messages
  o_i int[]; o_outcome text[]; o_tenant bigint[]; o_contact bigint[]; o_conv bigint[]; o_message bigint[];
  o_window int[];       -- the outcomes, by row
BEGIN
  -- 1. Route every row to its tenant, reserve its message id, find its contact and conversation if they exist.
  --    The tenant is looked up once per distinct route of the batch, not once per row.
  WITH x AS MATERIALIZED (
    SELECT x.*, nextval('messages_id_seq'::regclass) AS mid
    FROM jsonb_populate_recordset(NULL::lull_ingress_row, batch) x
  ), r AS MATERIALIZED (
    SELECT d.route, d.route_key, d.route_key2, d.user_id,
           CASE d.route
             WHEN 'slug' THEN (SELECT t.id FROM tenants t WHERE t.slug = d.route_key)
             WHEN 'twilio' THEN coalesce(
               (SELECT t.id FROM tenants t WHERE t.twilio_numbers && ARRAY[d.route_key, d.route_key2]
                ORDER BY t.id LIMIT 1),
               (SELECT t.id FROM tenants t WHERE t.slug = 'default'))
             WHEN 'meta' THEN coalesce(
               (SELECT t.id FROM tenants t WHERE t.meta_phone_number_ids @> ARRAY[d.route_key] ORDER BY t.id LIMIT 1),
               (SELECT t.id FROM tenants t WHERE t.slug = 'default'))
             WHEN 'tiktok' THEN coalesce(
               (SELECT t.id FROM tenants t WHERE t.tiktok_client_key = d.route_key),
               (SELECT t.id FROM tenants t WHERE t.slug = 'default'))
             WHEN 'session' THEN (
               SELECT k.tenant_id FROM contacts k
               WHERE k.channel = 'webchat' AND k.external_id = d.route_key
                 AND (d.user_id IS NULL OR coalesce(k.metadata ->> 'userId', '') IN ('', d.user_id))
               LIMIT 1)
             ELSE (SELECT t.id FROM tenants t WHERE t.slug = 'default')
           END AS tid
    FROM (SELECT DISTINCT x.route, x.route_key, x.route_key2, x.user_id FROM x) d
  )
  SELECT coalesce(array_agg(ROW(x.i, x.route, x.route_key, x.user_id, x.channel, x.external_id, x.first_name,
                 x.last_name, x.profile_name, x.phone, x.business_address, x.external_conversation_id, x.direction,
                 x.author, coalesce(x.body, ''), coalesce(x.media, '[]'::jsonb), x.provider_message_id, x.raw,
                 r.tid, x.mid, k.id, v.id, false, false)::lull_ingress_work ORDER BY x.i), '{}'),
       coalesce(bool_or(k.id IS NULL AND r.tid IS NOT NULL AND x.channel <> 'webchat'), false),
       coalesce(bool_or(k.id IS NOT NULL AND v.id IS NULL), false)
  INTO rows, need_k, need_conv
  FROM x
  LEFT JOIN r ON r.route IS NOT DISTINCT FROM x.route AND r.route_key IS NOT DISTINCT FROM x.route_key
             AND r.route_key2 IS NOT DISTINCT FROM x.route_key2 AND r.user_id IS NOT DISTINCT FROM x.user_id
  LEFT JOIN LATERAL (SELECT k.id FROM contacts k
                     WHERE k.tenant_id = r.tid AND k.channel = x.channel AND k.external_id = x.external_id
                     LIMIT 1) k ON true
  LEFT JOIN LATERAL (SELECT v.id FROM conversations v WHERE v.contact_id = k.id LIMIT 1) v ON true;

  -- 2. Contacts that do not exist yet, with their final attributes (web chat ones are made with the session), and
  --    in the same statement the rows of each new contact get it and a new conversation id (nextval once per
  --    new contact: n is MATERIALIZED).
  IF need_k THEN
    WITH s AS (
      -- one row per new contact: its latest inbound row (or its latest row when none is inbound: no attributes)
      SELECT DISTINCT ON (u.tenant_id, u.channel, u.external_id) u.tenant_id, u.channel, u.external_id,
             CASE WHEN u.direction = 'in' THEN u.first_name END AS fn,
             CASE WHEN u.direction = 'in' THEN u.last_name END AS ln,
             CASE WHEN u.direction = 'in' THEN u.profile_name END AS pn,
             CASE WHEN u.direction = 'in' THEN u.phone END AS ph,
             u.direction = 'in' AS inbound
      FROM unnest(rows) u
      WHERE u.kid IS NULL AND u.tenant_id IS NOT NULL AND u.channel <> 'webchat'
      ORDER BY u.tenant_id, u.channel, u.external_id, u.direction = 'in' DESC, u.i DESC
    ), k AS (
      INSERT INTO contacts (tenant_id, channel, external_id, first_name, last_name, profile_name, phone, last_inbound_at)
      SELECT s.tenant_id, s.channel, s.external_id, s.fn, s.ln, s.pn, s.ph, CASE WHEN s.inbound THEN now() END
      FROM s ORDER BY 1, 2, 3
      ON CONFLICT (tenant_id, channel, external_id) DO NOTHING
      RETURNING id, tenant_id, channel, external_id
    ), n AS MATERIALIZED (
      SELECT k.id, k.tenant_id, k.channel, k.external_id, nextval('conversations_id_seq'::regclass) AS vid FROM k
    )
    SELECT array_agg(ROW(u.i, u.route, u.route_key, u.user_id, u.channel, u.external_id, u.first_name, u.last_name,
                         u.profile_name, u.phone, u.business_address, u.external_conversation_id, u.direction,
                         u.author, u.body, u.media, u.provider_message_id, u.raw, u.tenant_id, u.message_id,
                         coalesce(u.kid, n.id), coalesce(n.vid, u.vid), n.id IS NOT NULL,
                         n.id IS NOT NULL)::lull_ingress_work ORDER BY u.i),
           coalesce(bool_or(u.kid IS NULL AND n.id IS NULL AND u.tenant_id IS NOT NULL AND u.channel <> 'webchat'),
                    false)
    INTO rows, need_probe
    FROM unnest(rows) u
    LEFT JOIN n ON u.kid IS NULL AND n.tenant_id = u.tenant_id AND n.channel = u.channel
               AND n.external_id = u.external_id;

    -- Rare: a contact another session created meanwhile (the ON CONFLICT skipped it, and this statement's
    -- snapshot did not see it): look it up again (a new statement, a new snapshot); it takes the "existing
    -- contact" path.
    IF need_probe THEN
      SELECT array_agg(ROW(u.i, u.route, u.route_key, u.user_id, u.channel, u.external_id, u.first_name,
                           u.last_name, u.profile_name, u.phone, u.business_address, u.external_conversation_id,
                           u.direction, u.author, u.body, u.media, u.provider_message_id, u.raw, u.tenant_id,
                           u.message_id, coalesce(u.kid, k.id), u.vid, u.new_contact,
                           u.new_conv)::lull_ingress_work ORDER BY u.i),
             need_conv OR coalesce(bool_or(u.kid IS NULL AND k.id IS NOT NULL AND u.vid IS NULL), false)
      INTO rows, need_conv
      FROM unnest(rows) u
      LEFT JOIN LATERAL (SELECT k.id FROM contacts k
                         WHERE u.kid IS NULL AND k.tenant_id = u.tenant_id AND k.channel = u.channel
                           AND k.external_id = u.external_id
                         LIMIT 1) k ON true;
    END IF;
  END IF;

  -- 3. Rare: an existing contact without a conversation (made outside ingress): the upsert of 010.
  IF need_conv THEN
    INSERT INTO conversations (tenant_id, contact_id, channel)
    SELECT DISTINCT k.tenant_id, k.id, k.channel
    FROM unnest(rows) u JOIN contacts k ON k.id = u.kid
    WHERE u.vid IS NULL AND NOT u.new_conv
    ORDER BY 2
    ON CONFLICT (contact_id) DO NOTHING;
    rows := ARRAY(
      SELECT ROW(u.i, u.route, u.route_key, u.user_id, u.channel, u.external_id, u.first_name, u.last_name,
                 u.profile_name, u.phone, u.business_address, u.external_conversation_id, u.direction, u.author,
                 u.body, u.media, u.provider_message_id, u.raw, u.tenant_id, u.message_id, u.kid,
                 coalesce(u.vid, v.id), u.new_contact, u.new_conv)::lull_ingress_work
      FROM unnest(rows) u
      LEFT JOIN LATERAL (SELECT v.id FROM conversations v WHERE u.vid IS NULL AND v.contact_id = u.kid LIMIT 1) v ON true
      ORDER BY u.i);
  END IF;

  -- 3b. An unsupported message type is answered only when its tenant says so (tenants.meta_unsupported = 'reply').
  --     Only WhatsApp Cloud rows carry "quiet": most batches skip the statement.
  quiet_i := '{}';
  IF jsonb_path_exists(batch, '$[*].quiet') THEN
    quiet_i := ARRAY(SELECT u.i FROM jsonb_array_elements(batch) q
                     JOIN unnest(rows) u ON u.i = (q ->> 'i')::int LEFT JOIN tenants t ON t.id = u.tenant_id
                     WHERE q ->> 'quiet' = 'always'
                        OR (q ->> 'quiet' = 'unsupported' AND coalesce(t.meta_unsupported, 'ignore') = 'ignore'));
  END IF;

  -- 4. The messages and the new conversations with their final state, in one statement. The state of the
  --    existing conversations and contacts of the rows really inserted is updated by statements of their own,
  --    run only when the batch has such rows (a batch of new contacts does not start their plans).
  WITH u AS (
    SELECT x.*, t.window_ms AS win, t.channel_windows AS cw, t.human_pause_ms AS pause_ms,
           CASE WHEN x.channel = 'tiktok' THEN coalesce(t.tiktok_business_id, x.business_address)
                ELSE x.business_address END AS ba
    FROM unnest(rows) x
    LEFT JOIN tenants t ON t.id = x.tenant_id
  ), m AS (
    INSERT INTO messages (id, conversation_id, tenant_id, channel, direction, author, body, media,
                          provider_message_id, raw)
    SELECT u.message_id, u.vid, u.tenant_id, u.channel, u.direction, u.author, u.body, u.media,
           u.provider_message_id, u.raw
    FROM u WHERE u.vid IS NOT NULL ORDER BY u.i
    ON CONFLICT (tenant_id, channel, provider_message_id) DO NOTHING
    RETURNING id
  ), mi AS (
    -- the ids inserted, as one array: each row tests its own id against it (no join of every row with every
    -- inserted row, which the function's nested-loop plans would make)
    SELECT coalesce(array_agg(m.id), '{}') AS ids FROM m
  ), us AS (
    SELECT u.*, u.message_id = ANY (mi.ids) AS stored FROM u, mi
  ), s AS (
    SELECT ins.vid, min(ins.tenant_id) AS tenant_id, min(ins.kid) AS kid, min(ins.channel) AS channel,
           max(ins.message_id) FILTER (WHERE ins.direction = 'in' AND ins.i <> ALL (quiet_i)) AS in_id,
           bool_or(ins.author = 'human') AS human,
           max(ins.pause_ms) AS pause_ms,
           (array_agg(ins.ba ORDER BY ins.i DESC) FILTER (WHERE ins.ba IS NOT NULL))[1] AS ba,
           (array_agg(ins.external_conversation_id ORDER BY ins.i DESC)
              FILTER (WHERE ins.external_conversation_id IS NOT NULL))[1] AS xc
    FROM us ins WHERE ins.stored AND ins.new_conv GROUP BY ins.vid
  ), cn AS (
    -- A new conversation (contact inserted by this call): one tuple with the state the update below would give.
    INSERT INTO conversations (id, tenant_id, contact_id, channel, last_inbound_id, last_inbound_at,
                               first_unanswered_at, wa_window_start, business_address, external_conversation_id,
                               paused_until)
    SELECT s.vid, s.tenant_id, s.kid, s.channel, coalesce(s.in_id, 0),
           CASE WHEN s.in_id IS NOT NULL THEN now() END,
           CASE WHEN s.in_id IS NOT NULL THEN now() END,
           CASE WHEN s.in_id IS NOT NULL AND s.channel = 'whatsapp' THEN now() END,
           s.ba, s.xc,
           CASE WHEN s.human THEN now() + s.pause_ms * interval '1 millisecond' END
    FROM s
    ORDER BY s.vid
    RETURNING id
  )
  , o AS (
    SELECT u.i,
           CASE WHEN u.tenant_id IS NULL THEN CASE WHEN u.route = 'session' THEN 'unknown_session' ELSE 'unknown_tenant' END
                WHEN u.vid IS NULL THEN 'retry'
                WHEN u.stored AND u.i = ANY (quiet_i) THEN 'quiet'
                WHEN u.stored THEN 'new'
                ELSE 'duplicate' END AS outcome,
           u.tenant_id, u.kid,
           -- a duplicate of a message stored under another contact: its conversation (u.vid may not exist)
           CASE WHEN NOT u.stored AND u.new_conv THEN e.conversation_id ELSE u.vid END AS vid,
           CASE WHEN u.stored THEN u.message_id ELSE e.id END AS mid,
           coalesce((u.cw -> u.channel ->> 'window_ms')::int, u.win) AS win,
           u.stored AND NOT u.new_conv AS upd_conv,
           u.stored AND u.direction = 'in' AND NOT u.new_contact AS upd_contact
    FROM us u
    LEFT JOIN LATERAL (SELECT e.id, e.conversation_id FROM messages e
                       WHERE NOT u.stored AND e.tenant_id = u.tenant_id AND e.channel = u.channel
                         AND e.provider_message_id = u.provider_message_id
                       LIMIT 1) e ON true
  )
  -- (one sort: the aggregates read the rows in the order of i)
  SELECT array_agg(o.i), array_agg(o.outcome), array_agg(o.tenant_id), array_agg(o.kid), array_agg(o.vid),
         array_agg(o.mid), array_agg(o.win), coalesce(array_agg(o.mid) FILTER (WHERE o.outcome IN ('new', 'quiet')), '{}'),
         coalesce(bool_or(o.upd_conv), false), coalesce(bool_or(o.upd_contact), false)
  INTO o_i, o_outcome, o_tenant, o_contact, o_conv, o_message, o_window, ins_ids, upd_conv, upd_contact
  FROM (SELECT * FROM o ORDER BY o.i) o;

  -- 4b. The existing conversations of the rows inserted (returning contacts: most batches of real traffic).
  IF upd_conv THEN
    UPDATE conversations v SET
      last_inbound_id = greatest(v.last_inbound_id, coalesce(s.in_id, 0)),
      last_inbound_at = CASE WHEN s.in_id IS NULL THEN v.last_inbound_at ELSE now() END,
      first_unanswered_at = CASE WHEN s.in_id IS NULL THEN v.first_unanswered_at
                                 ELSE coalesce(v.first_unanswered_at, now()) END,
      wa_window_start = CASE WHEN s.in_id IS NOT NULL AND v.channel = 'whatsapp' THEN now()
                             ELSE v.wa_window_start END,
      business_address = coalesce(s.ba, v.business_address),
      external_conversation_id = coalesce(s.xc, v.external_conversation_id),
      paused_until = CASE WHEN s.human THEN now() + s.pause_ms * interval '1 millisecond' ELSE v.paused_until END,
      cancelled_upto = CASE WHEN s.human THEN greatest(v.cancelled_upto, v.last_inbound_id) ELSE v.cancelled_upto END,
      updated_at = now()
    FROM (
      SELECT ins.vid,
             max(ins.message_id) FILTER (WHERE ins.direction = 'in' AND ins.i <> ALL (quiet_i)) AS in_id,
             bool_or(ins.author = 'human') AS human,
             max(ins.pause_ms) AS pause_ms,
             (array_agg(ins.ba ORDER BY ins.i DESC) FILTER (WHERE ins.ba IS NOT NULL))[1] AS ba,
             (array_agg(ins.external_conversation_id ORDER BY ins.i DESC)
                FILTER (WHERE ins.external_conversation_id IS NOT NULL))[1] AS xc
      FROM (SELECT w.*, t.human_pause_ms AS pause_ms,
                   CASE WHEN w.channel = 'tiktok' THEN coalesce(t.tiktok_business_id, w.business_address)
                        ELSE w.business_address END AS ba
            FROM unnest(rows) w LEFT JOIN tenants t ON t.id = w.tenant_id
            WHERE w.message_id = ANY (ins_ids) AND NOT w.new_conv) ins
      GROUP BY ins.vid
    ) s
    WHERE v.id = s.vid;
  END IF;

  -- 4c. The existing contacts of the inbound rows inserted: their latest names and phone.
  IF upd_contact THEN
    UPDATE contacts k SET
      last_inbound_at = now(),
      first_name = coalesce(s.first_name, k.first_name),
      last_name = coalesce(s.last_name, k.last_name),
      profile_name = coalesce(s.profile_name, k.profile_name),
      phone = coalesce(s.phone, k.phone),
      updated_at = now()
    FROM (SELECT DISTINCT ON (w.kid) w.kid, w.first_name, w.last_name, w.profile_name, w.phone
          FROM unnest(rows) w
          WHERE w.message_id = ANY (ins_ids) AND w.direction = 'in' AND NOT w.new_contact
          ORDER BY w.kid, w.i DESC) s
    WHERE k.id = s.kid;
  END IF;

  -- 5. The outcomes, computed by step 4.
  RETURN QUERY
  SELECT * FROM unnest(o_i, o_outcome, o_tenant, o_contact, o_conv, o_message, o_window);
END
$fn$;

-- Part 2.
-- less PostgreSQL work per reply: the running total of usage kept per statement.
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
-- usage is counted twice or missed. The insert trigger keeps 026's name (usage_tenant_day_rows), so the name
-- an older binary's schema knows still keeps the total, as it did; the same contract, expand-only.
DROP TRIGGER usage_tenant_day_rows ON usage;
CREATE TRIGGER usage_tenant_day_rows AFTER INSERT ON usage REFERENCING NEW TABLE AS lull_new
  FOR EACH STATEMENT EXECUTE FUNCTION lull_usage_tenant_day_stmt();
CREATE TRIGGER usage_tenant_day_upd AFTER UPDATE ON usage REFERENCING OLD TABLE AS lull_old NEW TABLE AS lull_new
  FOR EACH STATEMENT EXECUTE FUNCTION lull_usage_tenant_day_stmt();
CREATE TRIGGER usage_tenant_day_del AFTER DELETE ON usage REFERENCING OLD TABLE AS lull_old
  FOR EACH STATEMENT EXECUTE FUNCTION lull_usage_tenant_day_stmt();
