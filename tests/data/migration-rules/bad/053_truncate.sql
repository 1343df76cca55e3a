-- expect: TRUNCATE is a contract change
TRUNCATE sample_notes;
