-- A contract migration done by the rule: the code stopped reading conversations.sample_label while the schema
-- was 43; binaries built for 44 or later do not use it.
-- contract: conversations.sample_label and sample_touch() unused since schema 43
DROP TRIGGER conversations_sample_touch ON conversations;
DROP FUNCTION sample_touch();
ALTER TABLE conversations DROP COLUMN sample_label;
