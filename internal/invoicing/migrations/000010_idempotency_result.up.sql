-- The answer stored with an idempotency key becomes the app's result, which
-- knows no transport: the resource the change answers with (its kind, id and
-- version) and the app's view of it, in the app's own JSON encoding (bytea:
-- stored and returned as the app wrote it). The HTTP layer frames a result
-- (status, headers, body) on the way out, for the first answer and for a
-- replay alike, so nothing of HTTP is stored any more.
--
-- response keeps the framed HTTP answers stored before this version, which
-- cannot be turned into results here (a view is the app's, not the HTTP
-- body's shape); the HTTP layer replays them as stored. A key lives 24
-- hours, so a day after the upgrade every row holds a result.
ALTER TABLE idempotency_keys
    ADD COLUMN resource_kind    text,
    ADD COLUMN resource_id      uuid,
    ADD COLUMN resource_version bigint,
    ADD COLUMN resource_view    bytea,
    ALTER COLUMN response DROP NOT NULL,
    ADD CONSTRAINT idempotency_keys_result_or_response CHECK (
        (resource_kind IS NOT NULL AND resource_id IS NOT NULL AND resource_version IS NOT NULL
            AND resource_view IS NOT NULL AND response IS NULL)
        OR (resource_kind IS NULL AND resource_id IS NULL AND resource_version IS NULL
            AND resource_view IS NULL AND response IS NOT NULL));
