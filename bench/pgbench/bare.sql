-- The floor of a commit on this server: one single-row INSERT, autocommitted.
INSERT INTO bench_bare DEFAULT VALUES;
