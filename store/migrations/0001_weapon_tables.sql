-- One table per weapon class, named by the class id, and the `weapons` view over all of them.
--
-- The class list below must equal `WeaponClass::ALL` (a test checks it). A class added later
-- gets its own migration: this text is checksummed and must never change once applied.

CREATE SCHEMA IF NOT EXISTS mhfz;

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
        EXECUTE format($table$
            CREATE TABLE mhfz.%1$I (
                weapon_id               text        PRIMARY KEY,
                variant                 text        NOT NULL
                    CONSTRAINT variant_known CHECK (variant IN ('base', 'g', 's', 'sp', 'n')),
                site_row_id             text        NOT NULL
                    CONSTRAINT site_row_id_not_empty CHECK (site_row_id <> ''),
                name                    text        NOT NULL
                    CONSTRAINT name_not_blank CHECK (btrim(name) <> ''),
                name_notes              jsonb       NOT NULL,
                level                   integer
                    CONSTRAINT level_not_negative CHECK (level >= 0),
                hidden                  boolean     NOT NULL,
                rarity                  smallint    NOT NULL
                    CONSTRAINT rarity_range CHECK (rarity BETWEEN 1 AND 12),
                gr_requirement          integer
                    CONSTRAINT gr_requirement_not_negative CHECK (gr_requirement >= 0),
                attack                  integer     NOT NULL
                    CONSTRAINT attack_not_negative CHECK (attack >= 0),
                affinity                integer     NOT NULL
                    CONSTRAINT affinity_range CHECK (affinity BETWEEN -100 AND 100),
                attributes              jsonb       NOT NULL,
                unknown_attribute_lines jsonb       NOT NULL,
                sharpness               jsonb,
                slots                   smallint    NOT NULL
                    CONSTRAINT slots_not_negative CHECK (slots >= 0),
                rank_kind               text
                    CONSTRAINT rank_kind_known CHECK (rank_kind IN ('hr', 'gr', 'sr', 'gsr')),
                rank_level              integer
                    CONSTRAINT rank_level_not_negative CHECK (rank_level >= 0),
                price                   bigint
                    CONSTRAINT price_not_negative CHECK (price >= 0),
                upgrade_price           bigint
                    CONSTRAINT upgrade_price_not_negative CHECK (upgrade_price >= 0),
                price_note              text,
                creation_materials      jsonb       NOT NULL,
                upgrade_materials       jsonb       NOT NULL,
                upgrade_from            jsonb       NOT NULL,
                upgrade_to              jsonb       NOT NULL,
                description             text        NOT NULL,
                gunner                  jsonb,
                bow                     jsonb,
                extra_notes             jsonb       NOT NULL,
                record                  jsonb       NOT NULL,
                content_hash            bytea       NOT NULL
                    CONSTRAINT content_hash_is_sha256 CHECK (octet_length(content_hash) = 32),
                scrape_run_id           text        NOT NULL,
                scraped_at              timestamptz NOT NULL,
                first_seen              timestamptz NOT NULL DEFAULT now(),
                updated_at              timestamptz NOT NULL DEFAULT now(),
                CONSTRAINT rank_level_has_kind CHECK (rank_level IS NULL OR rank_kind IS NOT NULL),
                -- `WeaponRecord::validate`: the id starts with class:variant:site_row_id, so a
                -- row cannot land in another class's table.
                CONSTRAINT weapon_id_matches
                    CHECK (starts_with(weapon_id, %1$L || ':' || variant || ':' || site_row_id))
            )
        $table$, class);
        view_parts := view_parts || format('SELECT %L::text AS class, * FROM mhfz.%I', class, class);
    END LOOP;
    EXECUTE 'CREATE VIEW mhfz.weapons AS ' || array_to_string(view_parts, ' UNION ALL ');
END
$migration$;
