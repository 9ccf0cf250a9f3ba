ALTER TABLE outbox ADD CONSTRAINT outbox_event_id_key UNIQUE (event_id);
CREATE INDEX outbox_tenant_sequence ON outbox (tenant_id, sequence);
