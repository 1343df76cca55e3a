-- 013_outbox_delivery.sql — what Twilio reports after it accepted a message (status callbacks received by
-- ingress on POST /webhook/twilio/status): sent, delivered, undelivered, failed, read …, with the error code.
-- The sender's own status column says whether lull handed the message over; these say what became of it.
ALTER TABLE outbox ADD COLUMN delivery_status text,
                   ADD COLUMN delivery_error text,
                   ADD COLUMN delivery_updated_at timestamptz;
-- Status callbacks are matched by the message SID Twilio returned.
CREATE INDEX outbox_provider_message_id_idx ON outbox (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- Order of Twilio's message statuses: a callback never moves a row back (they can arrive out of order).
CREATE FUNCTION lull_twilio_status_rank(s text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE s WHEN 'accepted' THEN 1 WHEN 'scheduled' THEN 1 WHEN 'queued' THEN 2 WHEN 'sending' THEN 3
                WHEN 'sent' THEN 4 WHEN 'delivered' THEN 5 WHEN 'undelivered' THEN 5 WHEN 'failed' THEN 5
                WHEN 'canceled' THEN 5 WHEN 'partially_delivered' THEN 5 WHEN 'read' THEN 6 ELSE 0 END
$$;
