-- expect: DROP TABLE is a contract change
DROP TABLE IF EXISTS sample_notes;
