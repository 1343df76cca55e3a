-- expect: "unused since schema 46" is too recent for migration 47
-- contract: conversations.sample_label unused since schema 46
ALTER TABLE conversations DROP COLUMN sample_label;
