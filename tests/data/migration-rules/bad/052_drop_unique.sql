-- expect: DROP CONSTRAINT (not added again in this file)
ALTER TABLE messages DROP CONSTRAINT messages_tenant_channel_provider_message_id_key;
