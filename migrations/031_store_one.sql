-- 031_store_one.sql — lull_ingress_store_rows(batch): the store of lull_ingress_store for batches of one or two
-- rows, with less PostgreSQL work (docs/ingress.md "Performance").
--
-- lull_ingress_store (030) is made for batches: every call initialises the plans of all its statements (the route
-- lookup with a subplan per route kind, the contacts insert, the messages and conversations insert with the
-- outcomes' CTEs) and builds the check constraints of the tables it writes, whatever the batch holds. At one row
-- (the ingress's shape whenever traffic is light, and the pipeline's) that fixed cost is most of the call:
-- scripts/bench/store measured 900-1,200 µs of backend CPU for one row against 130-160 µs per row at 64 rows.
-- lull_ingress_store_rows runs each row as a few small statements (only the route lookup the row needs, an index
-- probe for its contact and conversation, the inserts and updates it needs), so a lone webhook pays for what it
-- uses: about a third less backend CPU at one row (median of 9 alternated pairs), about 14 % less at two (8
-- pairs); from four rows on the batch function is cheaper.
-- The ingress writer calls it for batches of one or two rows (ingress/ingress_writer.c); bigger batches still go
-- to lull_ingress_store.
--
-- Same signature, same outcomes and the same state as lull_ingress_store (docs/contracts.md): its rows are
-- stored one after the other in the call's transaction, which is what lull_ingress_store does with rows of
-- distinct contacts; a batch naming one contact twice is handed to lull_ingress_store. tests/it/test_ingress_store.sh
-- runs every batch whole and row by row through both and compares outcomes and state.
--
-- And conversations_external_idx (001: tenant_id, channel, external_conversation_id, for the rows that have one —
-- every TikTok and web chat conversation) is dropped: no statement of any tier filters or joins on
-- external_conversation_id (checked: the C SQL of ingress, worker, sender, scheduler and lull-admin, and the
-- migrations' functions, which only write it; lull-admin's list and search filter on status, channel and the
-- contact's names and external id), so no plan reads it, while each insert of such a conversation and each of its
-- non-HOT updates (every inbound message, every reply) wrote an entry into it.
--
-- Expand-only: a new function and a dropped index (an older binary names no index); nothing is redefined.
CREATE FUNCTION lull_ingress_store_rows(batch jsonb)
RETURNS TABLE (i int, outcome text, tenant_id bigint, contact_id bigint, conversation_id bigint, message_id bigint,
               window_ms int)
LANGUAGE plpgsql
-- As lull_ingress_store: the plans are cached for the session, possibly made while the tables were empty.
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
DECLARE
  e jsonb;              -- the row as sent
  x lull_ingress_row;
  mid bigint;           -- its reserved message id
  tid bigint;           -- its tenant
  kid bigint;           -- its contact
  vid bigint;           -- its conversation
  new_contact boolean;  -- the contact was inserted by this row (then its conversation is new too)
  quiet boolean;        -- stored without asking for a reply
  stored boolean;
  in_id bigint;         -- the message id the conversation's state takes (inbound, not quiet)
  t_win int; t_cw jsonb; t_pause bigint; t_biz text; t_unsup text;
  ba text;
  e_id bigint; e_conv bigint;  -- the stored message a duplicate is a copy of
BEGIN
  -- Rows of one contact in one batch interact (a new contact takes its latest inbound row's attributes, a new
  -- conversation is inserted once with the state of all its rows): such a batch goes to lull_ingress_store.
  -- Rows naming distinct (channel, external id) pairs are distinct contacts, stored one after the other here.
  IF jsonb_array_length(batch) > 1 AND EXISTS (
       SELECT FROM jsonb_array_elements(batch) a
       GROUP BY a.value ->> 'channel', a.value ->> 'external_id' HAVING count(*) > 1) THEN
    RETURN QUERY SELECT * FROM lull_ingress_store(batch);
    RETURN;
  END IF;
  FOR e IN SELECT a.value FROM jsonb_array_elements(batch) a LOOP
    x := jsonb_populate_record(NULL::lull_ingress_row, e);
    x.body := coalesce(x.body, '');
    x.media := coalesce(x.media, '[]'::jsonb);
    mid := nextval('messages_id_seq'::regclass);
    tid := NULL; kid := NULL; vid := NULL; new_contact := false; stored := false; e_id := NULL; e_conv := NULL;

    -- 1. The tenant and its settings: only the lookup of the row's route kind (one statement).
    IF x.route = 'slug' THEN
      SELECT t.id, t.window_ms, t.channel_windows, t.human_pause_ms, t.tiktok_business_id, t.meta_unsupported
        INTO tid, t_win, t_cw, t_pause, t_biz, t_unsup
        FROM tenants t WHERE t.slug = x.route_key;
    ELSIF x.route = 'twilio' THEN
      SELECT t.id, t.window_ms, t.channel_windows, t.human_pause_ms, t.tiktok_business_id, t.meta_unsupported
        INTO tid, t_win, t_cw, t_pause, t_biz, t_unsup
        FROM tenants t WHERE t.twilio_numbers && ARRAY[x.route_key, x.route_key2] ORDER BY t.id LIMIT 1;
    ELSIF x.route = 'meta' THEN
      SELECT t.id, t.window_ms, t.channel_windows, t.human_pause_ms, t.tiktok_business_id, t.meta_unsupported
        INTO tid, t_win, t_cw, t_pause, t_biz, t_unsup
        FROM tenants t WHERE t.meta_phone_number_ids @> ARRAY[x.route_key] ORDER BY t.id LIMIT 1;
    ELSIF x.route = 'tiktok' THEN
      SELECT t.id, t.window_ms, t.channel_windows, t.human_pause_ms, t.tiktok_business_id, t.meta_unsupported
        INTO tid, t_win, t_cw, t_pause, t_biz, t_unsup
        FROM tenants t WHERE t.tiktok_client_key = x.route_key;
    ELSIF x.route = 'session' THEN
      SELECT t.id, t.window_ms, t.channel_windows, t.human_pause_ms, t.tiktok_business_id, t.meta_unsupported
        INTO tid, t_win, t_cw, t_pause, t_biz, t_unsup
        FROM tenants t
        WHERE t.id = (SELECT k.tenant_id FROM contacts k
                      WHERE k.channel = 'webchat' AND k.external_id = x.route_key
                        AND (x.user_id IS NULL OR coalesce(k.metadata ->> 'userId', '') IN ('', x.user_id))
                      LIMIT 1);
    END IF;
    IF tid IS NULL AND x.route IS DISTINCT FROM 'slug' AND x.route IS DISTINCT FROM 'session' THEN
      SELECT t.id, t.window_ms, t.channel_windows, t.human_pause_ms, t.tiktok_business_id, t.meta_unsupported
        INTO tid, t_win, t_cw, t_pause, t_biz, t_unsup
        FROM tenants t WHERE t.slug = 'default';
    END IF;
    IF tid IS NULL THEN
      i := x.i; outcome := CASE WHEN x.route = 'session' THEN 'unknown_session' ELSE 'unknown_tenant' END;
      tenant_id := NULL; contact_id := NULL; conversation_id := NULL; message_id := NULL; window_ms := NULL;
      RETURN NEXT;
      CONTINUE;
    END IF;

    -- 2. Its contact and conversation; a new contact with its attributes, its conversation id reserved.
    SELECT k.id, (SELECT v.id FROM conversations v WHERE v.contact_id = k.id LIMIT 1) INTO kid, vid FROM contacts k
    WHERE k.tenant_id = tid AND k.channel = x.channel AND k.external_id = x.external_id LIMIT 1;
    IF kid IS NULL AND x.channel <> 'webchat' THEN
      INSERT INTO contacts (tenant_id, channel, external_id, first_name, last_name, profile_name, phone,
                            last_inbound_at)
      VALUES (tid, x.channel, x.external_id,
              CASE WHEN x.direction = 'in' THEN x.first_name END, CASE WHEN x.direction = 'in' THEN x.last_name END,
              CASE WHEN x.direction = 'in' THEN x.profile_name END, CASE WHEN x.direction = 'in' THEN x.phone END,
              CASE WHEN x.direction = 'in' THEN now() END)
      ON CONFLICT (tenant_id, channel, external_id) DO NOTHING
      RETURNING id INTO kid;
      IF kid IS NOT NULL THEN
        new_contact := true;
        vid := nextval('conversations_id_seq'::regclass);
      ELSE
        -- another session created it meanwhile: look it up again (a new statement, a new snapshot)
        SELECT k.id INTO kid FROM contacts k
        WHERE k.tenant_id = tid AND k.channel = x.channel AND k.external_id = x.external_id LIMIT 1;
      END IF;
    END IF;
    -- Rare: an existing contact without a conversation (made outside ingress, or by another session meanwhile).
    IF kid IS NOT NULL AND vid IS NULL THEN
      INSERT INTO conversations (tenant_id, contact_id, channel)
      SELECT k.tenant_id, k.id, k.channel FROM contacts k WHERE k.id = kid
      ON CONFLICT (contact_id) DO NOTHING;
      SELECT v.id INTO vid FROM conversations v WHERE v.contact_id = kid LIMIT 1;
    END IF;

    -- 3. The message, and the conversation's and contact's state when it was really inserted.
    quiet := coalesce(e ->> 'quiet' = 'always'
                      OR (e ->> 'quiet' = 'unsupported' AND coalesce(t_unsup, 'ignore') = 'ignore'), false);
    in_id := CASE WHEN x.direction = 'in' AND NOT quiet THEN mid END;
    ba := CASE WHEN x.channel = 'tiktok' THEN coalesce(t_biz, x.business_address) ELSE x.business_address END;
    IF vid IS NOT NULL AND new_contact THEN
      -- a new conversation: inserted with its final state, in the statement of its first message (the
      -- message's foreign key is checked at the end of the statement); neither when the message is a duplicate
      WITH m AS (
        INSERT INTO messages (id, conversation_id, tenant_id, channel, direction, author, body, media,
                              provider_message_id, raw)
        VALUES (mid, vid, tid, x.channel, x.direction, x.author, x.body, x.media, x.provider_message_id, x.raw)
        ON CONFLICT (tenant_id, channel, provider_message_id) DO NOTHING
        RETURNING id
      )
      INSERT INTO conversations (id, tenant_id, contact_id, channel, last_inbound_id, last_inbound_at,
                                 first_unanswered_at, wa_window_start, business_address, external_conversation_id,
                                 paused_until)
      SELECT vid, tid, kid, x.channel, coalesce(in_id, 0),
             CASE WHEN in_id IS NOT NULL THEN now() END,
             CASE WHEN in_id IS NOT NULL THEN now() END,
             CASE WHEN in_id IS NOT NULL AND x.channel = 'whatsapp' THEN now() END,
             ba, x.external_conversation_id,
             CASE WHEN x.author = 'human' THEN now() + t_pause * interval '1 millisecond' END
      FROM m
      RETURNING true INTO stored;
      stored := coalesce(stored, false);
    ELSIF vid IS NOT NULL THEN
      INSERT INTO messages (id, conversation_id, tenant_id, channel, direction, author, body, media,
                            provider_message_id, raw)
      VALUES (mid, vid, tid, x.channel, x.direction, x.author, x.body, x.media, x.provider_message_id, x.raw)
      ON CONFLICT (tenant_id, channel, provider_message_id) DO NOTHING
      RETURNING true INTO stored;
      stored := coalesce(stored, false);
      IF stored THEN
        UPDATE conversations v SET
          last_inbound_id = greatest(v.last_inbound_id, coalesce(in_id, 0)),
          last_inbound_at = CASE WHEN in_id IS NULL THEN v.last_inbound_at ELSE now() END,
          first_unanswered_at = CASE WHEN in_id IS NULL THEN v.first_unanswered_at
                                     ELSE coalesce(v.first_unanswered_at, now()) END,
          wa_window_start = CASE WHEN in_id IS NOT NULL AND v.channel = 'whatsapp' THEN now()
                                 ELSE v.wa_window_start END,
          business_address = coalesce(ba, v.business_address),
          external_conversation_id = coalesce(x.external_conversation_id, v.external_conversation_id),
          paused_until = CASE WHEN x.author = 'human' THEN now() + t_pause * interval '1 millisecond'
                              ELSE v.paused_until END,
          cancelled_upto = CASE WHEN x.author = 'human' THEN greatest(v.cancelled_upto, v.last_inbound_id)
                                ELSE v.cancelled_upto END,
          updated_at = now()
        WHERE v.id = vid;
        IF x.direction = 'in' THEN
          UPDATE contacts k SET
            last_inbound_at = now(),
            first_name = coalesce(x.first_name, k.first_name),
            last_name = coalesce(x.last_name, k.last_name),
            profile_name = coalesce(x.profile_name, k.profile_name),
            phone = coalesce(x.phone, k.phone),
            updated_at = now()
          WHERE k.id = kid;
        END IF;
      END IF;
    END IF;
    IF NOT stored THEN
      SELECT m.id, m.conversation_id INTO e_id, e_conv FROM messages m
      WHERE m.tenant_id = tid AND m.channel = x.channel AND m.provider_message_id = x.provider_message_id LIMIT 1;
    END IF;

    i := x.i;
    outcome := CASE WHEN vid IS NULL THEN 'retry' WHEN stored AND quiet THEN 'quiet' WHEN stored THEN 'new'
                    ELSE 'duplicate' END;
    tenant_id := tid;
    contact_id := kid;
    -- a duplicate of a message stored under another contact: its conversation (vid was never inserted)
    conversation_id := CASE WHEN NOT stored AND new_contact THEN e_conv ELSE vid END;
    message_id := CASE WHEN stored THEN mid ELSE e_id END;
    window_ms := coalesce((t_cw -> x.channel ->> 'window_ms')::int, t_win);
    RETURN NEXT;
  END LOOP;
END
$fn$;

DROP INDEX conversations_external_idx;
