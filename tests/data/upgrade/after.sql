-- The migration after "next" in tests/it/test_upgrade.sh (numbered current+2): binaries built for the current
-- schema must refuse a database migrated this far; those built for current+1 still run.
CREATE TABLE upgrade_after (id bigserial PRIMARY KEY, note text);
