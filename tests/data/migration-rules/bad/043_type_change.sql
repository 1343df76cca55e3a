-- expect: ALTER COLUMN sample_flag TYPE (conversations) is a contract change
ALTER TABLE conversations ALTER COLUMN sample_flag TYPE int USING sample_flag::int;
