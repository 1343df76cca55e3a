-- 020_person_guarantee.sql — once a person answers, the bot is silent. A bot reply committed before a person
-- answered (a human reply, a TikTok im_send_msg echo, a take over) and not yet delivered is not sent: the
-- sender marks its outbox row `cancelled` at claim time, with the reason in cancel_reason
-- ('superseded_by_person'). Expand-only: the status CHECK gains one value, one nullable column is added.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
  CHECK (status IN ('pending', 'sending', 'retry', 'sent', 'unknown', 'dead', 'cancelled'));
ALTER TABLE outbox ADD COLUMN cancel_reason text,
                   ADD COLUMN cancelled_at timestamptz;
