-- The versioned history of every weapon: one row per content version.
--
-- The upserts (store/src/write.rs) write it in the same statement, so in the same transaction,
-- as the class tables: a weapon inserted gets version 1; a weapon whose content hash changed
-- gets its current version closed (`valid_to`) and the next one opened. Records delivered again
-- with the same content touch neither the class table nor the history.
--
-- `valid_from` and `valid_to` are the times the consumer stored the content (the writing
-- transaction's `now()`, the class row's `updated_at`), so a weapon's versions never overlap
-- and every instant has at most one current version. `scrape_run_id` and `scraped_at` say
-- which scrape brought the content.
--
-- This text is checksummed and must never change once applied.

CREATE TABLE mhfz.weapon_versions (
    weapon_id     text        NOT NULL,
    class         text        NOT NULL,
    version       integer     NOT NULL
        CONSTRAINT version_positive CHECK (version >= 1),
    record        jsonb       NOT NULL,
    content_hash  bytea       NOT NULL
        CONSTRAINT content_hash_is_sha256 CHECK (octet_length(content_hash) = 32),
    scrape_run_id text        NOT NULL,
    scraped_at    timestamptz NOT NULL,
    valid_from    timestamptz NOT NULL,
    -- NULL for the current version.
    valid_to      timestamptz,
    PRIMARY KEY (weapon_id, version),
    CONSTRAINT valid_to_after_valid_from CHECK (valid_to >= valid_from),
    -- At most one current version per weapon. Deferred to the commit: one upsert statement
    -- closes the old version and opens the new one, in an order PostgreSQL does not define.
    CONSTRAINT one_current_version EXCLUDE USING btree (weapon_id WITH =) WHERE (valid_to IS NULL)
        DEFERRABLE INITIALLY DEFERRED
);

-- "What changed between two times" scans by time.
CREATE INDEX weapon_versions_valid_from ON mhfz.weapon_versions (valid_from);
CREATE INDEX weapon_versions_scrape_run_id ON mhfz.weapon_versions (scrape_run_id);

-- The weapons already stored become their version 1, valid since their last change.
INSERT INTO mhfz.weapon_versions
    (weapon_id, class, version, record, content_hash, scrape_run_id, scraped_at, valid_from)
SELECT weapon_id, class, 1, record, content_hash, scrape_run_id, scraped_at, updated_at
FROM mhfz.weapons;
