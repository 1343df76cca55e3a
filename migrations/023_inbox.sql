-- 023_inbox.sql — what the agents' inbox page (lull-admin GET /inbox) needs.
--
-- Live list: lull-admin LISTENs on lull_inbox. A NOTIFY in a transaction is not free: at commit PostgreSQL
-- serialises every transaction that notified (one lock on the notification queue, held through the commit's
-- WAL flush), so a NOTIFY in every inbound batch or every worker commit would cap those commits at the disk's
-- flush rate (measured on a 2-core machine with pgbench, one-row UPDATEs of conversations: ~4x fewer commits
-- per second with a statement-level NOTIFY trigger than without). So only the rare changes notify: a
-- conversation whose status or pause changes (escalated, paused, handed back, a person answered) or that an
-- agent read (agent_seen_upto, below). The trigger
-- is per row with a WHEN clause that PostgreSQL evaluates without calling the function, so the hot paths (the
-- ingress storing inbound messages, the worker's reply commit, which leave status and paused_until unchanged)
-- queue nothing; identical notifications of one transaction are folded into one. New messages (inbound and
-- replies) are seen by lull-admin itself: while an inbox stream is open it reads max(messages.id) (one probe
-- of the primary key) every LULL_ADMIN_INBOX_POLL_MS. The payload says nothing: lull-admin re-reads the list.
CREATE FUNCTION lull_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('lull_inbox', '');
  RETURN NULL;
END
$$;
-- Unread: the inbound messages newer than both the last time an agent opened the conversation in the inbox
-- (agent_seen_upto, a message id) and the last human reply.
ALTER TABLE conversations ADD COLUMN agent_seen_upto bigint NOT NULL DEFAULT 0;

CREATE TRIGGER conversations_inbox_notify AFTER UPDATE OF status, paused_until, agent_seen_upto ON conversations
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.paused_until IS DISTINCT FROM NEW.paused_until
                     OR OLD.agent_seen_upto IS DISTINCT FROM NEW.agent_seen_upto)
  EXECUTE FUNCTION lull_inbox_notify();

-- Paused conversations (a person answered: paused_until in the future) for the inbox list. Only rows a
-- person ever paused are in it; the ingress leaves paused_until unchanged on bot traffic.
CREATE INDEX conversations_paused_idx ON conversations (paused_until) WHERE paused_until IS NOT NULL;
