-- 023_inbox.sql — what the agents' inbox page (lull-admin GET /inbox) needs.
--
-- Live list: lull-admin LISTENs on lull_inbox. A statement-level trigger on conversations sends one NOTIFY
-- per statement that inserts or updates conversations, with an empty payload. Every tier that changes what
-- the inbox shows already updates conversations in the same transaction (ingress storing inbound messages,
-- the worker's commit, an escalation, a pause, a human reply, a hand-back), so no tier's SQL changes.
-- Cost: one trigger call per statement, not per row (the ingress stores a whole batch in one UPDATE), no
-- transition table, and PostgreSQL folds identical notifications of one transaction into one: at most one
-- notification per committing transaction. The payload says nothing; lull-admin re-reads the list (at most
-- once per LULL_ADMIN_INBOX_DEBOUNCE_MS, and only while a stream is open).
CREATE FUNCTION lull_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('lull_inbox', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER conversations_inbox_notify AFTER INSERT OR UPDATE ON conversations
  FOR EACH STATEMENT EXECUTE FUNCTION lull_inbox_notify();

-- Unread: the inbound messages newer than both the last time an agent opened the conversation in the inbox
-- (agent_seen_upto, a message id) and the last human reply.
ALTER TABLE conversations ADD COLUMN agent_seen_upto bigint NOT NULL DEFAULT 0;

-- Paused conversations (a person answered: paused_until in the future) for the inbox list. Only rows a
-- person ever paused are in it; the ingress leaves paused_until unchanged on bot traffic.
CREATE INDEX conversations_paused_idx ON conversations (paused_until) WHERE paused_until IS NOT NULL;
