-- Exact incremental exports.
--
-- Every row version carries `change_xid`, the id of the transaction that wrote its content
-- (the default on insert; the upserts set it again when, and only when, the content changes).
-- Every successful export records in `export_runs` the snapshot it read the tables under. The
-- next export selects the rows whose `change_xid` is not visible in that snapshot: exactly the
-- versions committed after it, whatever order concurrent writers commit in (a timestamp
-- watermark would skip a row whose transaction started before the previous export and
-- committed after it).
--
-- The class list below must equal `WeaponClass::ALL` (a test checks it). This text is
-- checksummed and must never change once applied.

DO $migration$
DECLARE
    classes CONSTANT text[] := ARRAY[
        'great_sword', 'long_sword', 'sword_and_shield', 'dual_swords', 'hammer',
        'hunting_horn', 'lance', 'gunlance', 'tonfa', 'switch_axe_f', 'magnet_spike',
        'light_bowgun', 'heavy_bowgun', 'bow'
    ];
    class text;
    view_parts text[] := '{}';
BEGIN
    FOREACH class IN ARRAY classes LOOP
        -- Rows already stored get this migration's transaction id: the first export takes them.
        EXECUTE format(
            'ALTER TABLE mhfz.%I ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()',
            class
        );
        view_parts := view_parts || format('SELECT %L::text AS class, * FROM mhfz.%I', class, class);
    END LOOP;
    -- The same view, with `change_xid` appended as its last column.
    EXECUTE 'CREATE OR REPLACE VIEW mhfz.weapons AS ' || array_to_string(view_parts, ' UNION ALL ');
END
$migration$;

-- One row per successful export, written in the transaction that read the rows, after the
-- output was complete and in place: a failed or interrupted export leaves no row, so the next
-- one exports the same rows again.
CREATE TABLE mhfz.export_runs (
    run_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- True for `--full` (every row); false for the rows changed since `since_run_id`.
    full_export   boolean     NOT NULL,
    -- The run whose snapshot this incremental export continued from; NULL for a full export
    -- or the first one. Unique: two exports cannot both continue from the same run.
    since_run_id  bigint      UNIQUE REFERENCES mhfz.export_runs,
    -- `pg_current_snapshot()` of the export's REPEATABLE READ transaction: what it saw.
    snapshot      pg_snapshot NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    rows_exported bigint      NOT NULL
        CONSTRAINT rows_exported_not_negative CHECK (rows_exported >= 0),
    -- Where the output went: `stdout`, a file path or an HDFS URL (never a credential).
    destination   text        NOT NULL
        CONSTRAINT destination_not_empty CHECK (destination <> ''),
    CONSTRAINT full_exports_continue_from_nothing CHECK (NOT (full_export AND since_run_id IS NOT NULL)),
    CONSTRAINT finished_after_start CHECK (finished_at >= started_at)
);
