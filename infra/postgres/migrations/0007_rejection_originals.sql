-- A rejection of any record fits (issue 13): it keeps the first 256 KiB of the original, with
-- the whole original's length and SHA-256, and a key that is not UTF-8 text the store can hold
-- (or is longer than 4 KiB) as base64 or cut. Rows written before keep NULL length and digest.
ALTER TABLE appeal_rejections
    ADD COLUMN key_encoding       text    NOT NULL DEFAULT 'utf-8',
    ADD COLUMN key_truncated      boolean NOT NULL DEFAULT false,
    ADD COLUMN original_length    bigint,
    ADD COLUMN original_sha256    text,
    ADD COLUMN original_truncated boolean NOT NULL DEFAULT false;
