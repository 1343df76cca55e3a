-- 017_twilio_inbound_statuses.sql — Twilio's statuses of a message on its way in, `receiving` and `received`,
-- in the forward-only order of status callbacks: below `sent` and `delivered` (a late one never moves a row
-- back), `received` after `receiving`. The ranks are spread out to make room; only their order matters.
CREATE OR REPLACE FUNCTION lull_twilio_status_rank(s text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE s WHEN 'accepted' THEN 10 WHEN 'scheduled' THEN 10 WHEN 'queued' THEN 20 WHEN 'sending' THEN 30
                WHEN 'receiving' THEN 30 WHEN 'received' THEN 35 WHEN 'sent' THEN 40 WHEN 'delivered' THEN 50
                WHEN 'undelivered' THEN 50 WHEN 'failed' THEN 50 WHEN 'canceled' THEN 50
                WHEN 'partially_delivered' THEN 50 WHEN 'read' THEN 60 ELSE 0 END
$$;
