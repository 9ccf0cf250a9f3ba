-- Run once by the postgres image when compose creates its volume: the role
-- the tests connect as (TEST_DATABASE_URL's default,
-- postgres://postgres@127.0.0.1:5432/postgres), which creates a database per
-- test from a migrated template. For local use only.
CREATE ROLE postgres SUPERUSER LOGIN;
