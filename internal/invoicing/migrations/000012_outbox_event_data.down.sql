-- Every row still has its payload: this release writes both columns.
ALTER TABLE outbox DROP COLUMN data;
