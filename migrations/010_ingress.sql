-- 010_ingress.sql — what lull-ingress needs beyond 001: the row type of a group-commit batch, the function
-- that stores a whole batch in one transaction (one round trip), and an index to find web chat sessions.
--
-- lull_ingress_store(batch) is called in autocommit mode, so the call IS the transaction: when it returns,
-- every row it reports as 'new' is committed. It routes each row to its tenant, upserts contacts and
-- conversations, inserts the messages with ON CONFLICT (channel, provider_message_id) DO NOTHING, and updates
-- the conversation state (docs/contracts.md, "Conversation state") only for rows really inserted, so a
-- duplicate delivery changes nothing. Outcomes per row: new, duplicate, unknown_tenant, unknown_session, retry.

-- One message of a batch, as ingress sends it (jsonb_populate_recordset keys); tenant_id and message_id are
-- filled in by the function.
CREATE TYPE lull_ingress_row AS (
  i                        int,     -- index in the batch (results are reported per index)
  route                    text,    -- slug | twilio | tiktok | session | default
  route_key                text,    -- tenant slug, Twilio To, TikTok client_key, web chat session id
  route_key2               text,    -- Twilio To without its whatsapp: prefix
  user_id                  text,    -- web chat: the userId the message claims (must match the session's)
  channel                  text,
  external_id              text,    -- contacts.external_id
  first_name               text,
  last_name                text,
  profile_name             text,
  phone                    text,
  business_address         text,
  external_conversation_id text,
  direction                text,    -- in | out
  author                   text,    -- contact | human
  body                     text,
  media                    jsonb,
  provider_message_id      text,
  raw                      jsonb,
  tenant_id                bigint,
  message_id               bigint
);

CREATE FUNCTION lull_ingress_store(batch jsonb)
RETURNS TABLE (i int, outcome text, tenant_id bigint, contact_id bigint, conversation_id bigint, message_id bigint,
               window_ms int)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  rows lull_ingress_row[];
BEGIN
  -- 1. Route every row to its tenant and reserve its message id.
  rows := ARRAY(
    SELECT ROW(x.i, x.route, x.route_key, x.route_key2, x.user_id, x.channel, x.external_id, x.first_name,
               x.last_name, x.profile_name, x.phone, x.business_address, x.external_conversation_id, x.direction,
               x.author, coalesce(x.body, ''), coalesce(x.media, '[]'::jsonb), x.provider_message_id, x.raw,
               CASE x.route
                 WHEN 'slug' THEN (SELECT t.id FROM tenants t WHERE t.slug = x.route_key)
                 WHEN 'twilio' THEN coalesce(
                   (SELECT t.id FROM tenants t WHERE t.twilio_numbers && ARRAY[x.route_key, x.route_key2]
                    ORDER BY t.id LIMIT 1),
                   (SELECT t.id FROM tenants t WHERE t.slug = 'default'))
                 WHEN 'tiktok' THEN coalesce(
                   (SELECT t.id FROM tenants t WHERE t.tiktok_client_key = x.route_key),
                   (SELECT t.id FROM tenants t WHERE t.slug = 'default'))
                 WHEN 'session' THEN (
                   SELECT k.tenant_id FROM contacts k
                   WHERE k.channel = 'webchat' AND k.external_id = x.route_key
                     AND (x.user_id IS NULL OR coalesce(k.metadata ->> 'userId', '') IN ('', x.user_id))
                   LIMIT 1)
                 ELSE (SELECT t.id FROM tenants t WHERE t.slug = 'default')
               END,
               nextval('messages_id_seq'::regclass))::lull_ingress_row
    FROM jsonb_populate_recordset(NULL::lull_ingress_row, batch) x
    ORDER BY x.i);

  -- 2. Contacts and conversations that do not exist yet (web chat ones are made with the session).
  INSERT INTO contacts (tenant_id, channel, external_id)
  SELECT DISTINCT u.tenant_id, u.channel, u.external_id FROM unnest(rows) u
  WHERE u.tenant_id IS NOT NULL AND u.channel <> 'webchat'
  ORDER BY 1, 2, 3
  ON CONFLICT (tenant_id, channel, external_id) DO NOTHING;

  INSERT INTO conversations (tenant_id, contact_id, channel)
  SELECT DISTINCT k.tenant_id, k.id, k.channel
  FROM unnest(rows) u JOIN contacts k ON (k.tenant_id, k.channel, k.external_id) = (u.tenant_id, u.channel, u.external_id)
  ORDER BY 2
  ON CONFLICT (contact_id) DO NOTHING;

  -- 3. The messages, and the state of the conversations and contacts of the rows really inserted.
  RETURN QUERY
  WITH u AS (
    SELECT x.*, k.id AS kid, v.id AS vid, t.window_ms AS win, t.channel_windows AS cw, t.human_pause_ms AS pause_ms,
           CASE WHEN x.channel = 'tiktok' THEN coalesce(t.tiktok_business_id, x.business_address)
                ELSE x.business_address END AS ba
    -- LATERAL … LIMIT 1: one index probe per row, whatever the cached plan thinks of the tables' sizes
    FROM unnest(rows) x
    LEFT JOIN LATERAL (SELECT k.id FROM contacts k
                       WHERE k.tenant_id = x.tenant_id AND k.channel = x.channel AND k.external_id = x.external_id
                       LIMIT 1) k ON true
    LEFT JOIN LATERAL (SELECT v.id FROM conversations v WHERE v.contact_id = k.id LIMIT 1) v ON true
    LEFT JOIN tenants t ON t.id = x.tenant_id
  ), m AS (
    INSERT INTO messages (id, conversation_id, tenant_id, channel, direction, author, body, media,
                          provider_message_id, raw)
    SELECT u.message_id, u.vid, u.tenant_id, u.channel, u.direction, u.author, u.body, u.media,
           u.provider_message_id, u.raw
    FROM u WHERE u.vid IS NOT NULL ORDER BY u.i
    ON CONFLICT (channel, provider_message_id) DO NOTHING
    RETURNING id
  ), ins AS (
    SELECT u.* FROM u JOIN m ON m.id = u.message_id
  ), cu AS (
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
    FROM (SELECT ins.vid,
                 max(ins.message_id) FILTER (WHERE ins.direction = 'in') AS in_id,
                 bool_or(ins.author = 'human') AS human,
                 max(ins.pause_ms) AS pause_ms,
                 (array_agg(ins.ba ORDER BY ins.i DESC) FILTER (WHERE ins.ba IS NOT NULL))[1] AS ba,
                 (array_agg(ins.external_conversation_id ORDER BY ins.i DESC)
                    FILTER (WHERE ins.external_conversation_id IS NOT NULL))[1] AS xc
          FROM ins GROUP BY ins.vid) s
    WHERE v.id = s.vid
    RETURNING v.id
  ), ku AS (
    UPDATE contacts k SET
      last_inbound_at = now(),
      first_name = coalesce(s.first_name, k.first_name),
      last_name = coalesce(s.last_name, k.last_name),
      profile_name = coalesce(s.profile_name, k.profile_name),
      phone = coalesce(s.phone, k.phone),
      updated_at = now()
    FROM (SELECT DISTINCT ON (ins.kid) ins.kid, ins.first_name, ins.last_name, ins.profile_name, ins.phone
          FROM ins WHERE ins.direction = 'in' ORDER BY ins.kid, ins.i DESC) s
    WHERE k.id = s.kid
    RETURNING k.id
  )
  SELECT u.i,
         CASE WHEN u.tenant_id IS NULL THEN CASE WHEN u.route = 'session' THEN 'unknown_session' ELSE 'unknown_tenant' END
              WHEN u.vid IS NULL THEN 'retry'
              WHEN m.id IS NOT NULL THEN 'new'
              ELSE 'duplicate' END,
         u.tenant_id, u.kid, u.vid, coalesce(m.id, e.id),
         coalesce((u.cw -> u.channel ->> 'window_ms')::int, u.win)
  FROM u
  LEFT JOIN m ON m.id = u.message_id
  LEFT JOIN LATERAL (SELECT e.id FROM messages e
                     WHERE m.id IS NULL AND e.channel = u.channel AND e.provider_message_id = u.provider_message_id
                     LIMIT 1) e ON true
  ORDER BY u.i;
END
$fn$;

-- Web chat: a session id is the contact's external_id on channel 'webchat' (unique per tenant, random).
CREATE INDEX contacts_webchat_session_idx ON contacts (external_id) WHERE channel = 'webchat';
