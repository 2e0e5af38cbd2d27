//! One data row of a weapon table → one [`WeaponRecord`].

use mhfz_record::{BowStats, GunnerStats, Materials, RecordError, WeaponId, WeaponRecord};
use scraper::ElementRef;

use super::cells::{self, CellError};
use super::columns::{Column, ColumnMap};
use super::table::Row;
use super::{text, PageRef};

/// Why a row was rejected.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RowError {
    #[error("row has {found} cells, the header has {expected} columns")]
    CellCount { found: usize, expected: usize },
    #[error("{0} cell is covered by a spanning cell")]
    MissingCell(&'static str),
    #[error("name cell has no id attribute")]
    NoRowId,
    #[error("{column}: {error}")]
    Cell {
        column: &'static str,
        error: CellError,
    },
    #[error("weapon id {0} already used by an earlier row of the page")]
    DuplicateId(WeaponId),
    #[error(transparent)]
    Invalid(#[from] RecordError),
}

/// Parses `row`. Its weapon id is the plain `class:variant:row_id`; the page parser appends
/// the name where the row id repeats.
pub(crate) fn parse_row(
    page: &PageRef,
    columns: &ColumnMap,
    row: &Row<'_>,
) -> Result<WeaponRecord, RowError> {
    if row.cells.len() != columns.len() {
        return Err(RowError::CellCount {
            found: row.cells.len(),
            expected: columns.len(),
        });
    }
    let cells = RowCells { columns, row };
    let site_row_id = site_row_id(row, columns).ok_or(RowError::NoRowId)?;
    let name = cells.required(Column::Name, cells::parse_name)?;
    let (rarity, gr_requirement) = cells.required(Column::Rarity, cells::parse_rarity)?;
    let is_bow = columns.has(Column::ChargeStage) || columns.has(Column::Coatings);
    let attack = cells.required(Column::Attack, |cell| cells::parse_attack(cell, is_bow))?;

    // Remarks of several cells, kept in column order.
    let mut extra_notes: Vec<(usize, Vec<String>)> = Vec::new();
    let mut keep_notes = |column: Column, notes: Vec<String>| {
        if let Some(position) = columns.position(column) {
            extra_notes.push((position, notes));
        }
    };

    let (sharpness, notes) = cells
        .parse(Column::Sharpness, cells::parse_sharpness)?
        .unwrap_or_default();
    keep_notes(Column::Sharpness, notes);
    let (slots, notes) = cells
        .parse(Column::Slots, cells::parse_slots)?
        .unwrap_or_default();
    keep_notes(Column::Slots, notes);
    let rank_requirement = cells.parse(Column::Rank, cells::parse_rank)?.flatten();
    let price = cells
        .parse(Column::Price, cells::parse_price)?
        .unwrap_or_default();

    let gunner = if [
        Column::Ammo,
        Column::ReloadRecoilSpeed,
        Column::Reload,
        Column::Recoil,
        Column::BulletSpeed,
    ]
    .into_iter()
    .any(|column| columns.has(column))
    {
        let (ammo, notes) = cells
            .parse(Column::Ammo, cells::parse_ammo)?
            .unwrap_or_default();
        keep_notes(Column::Ammo, notes);
        let (reload, recoil, bullet_speed) =
            match cells.parse(Column::ReloadRecoilSpeed, cells::parse_reload_recoil_speed)? {
                Some(combined) => combined,
                None => (
                    cells.line(Column::Reload)?,
                    cells.line(Column::Recoil)?,
                    cells.line(Column::BulletSpeed)?,
                ),
            };
        Some(GunnerStats {
            reload,
            recoil,
            bullet_speed,
            ammo,
        })
    } else {
        None
    };

    let bow = if is_bow {
        let (charge_stages, notes) = cells
            .parse(Column::ChargeStage, cells::parse_charge_stages)?
            .unwrap_or_default();
        keep_notes(Column::ChargeStage, notes);
        Some(BowStats {
            arc_shot: attack.arc_shot,
            charge_stages,
            coatings: cells
                .parse(Column::Coatings, |cell| Ok(cells::parse_coatings(cell)))?
                .unwrap_or_default(),
        })
    } else {
        None
    };

    extra_notes.sort_by_key(|(position, _)| *position);
    let record = WeaponRecord {
        weapon_id: WeaponId::new(page.class, page.variant, site_row_id, None),
        class: page.class,
        variant: page.variant,
        site_row_id: site_row_id.to_string(),
        name: name.name,
        name_notes: name.notes,
        level: name.level,
        hidden: row.is_hidden(),
        rarity,
        gr_requirement,
        attack: attack.attack,
        affinity: attack.affinity,
        attributes: attack.attributes,
        unknown_attribute_lines: attack.unknown_lines,
        sharpness,
        slots,
        rank_requirement,
        price: price.price,
        upgrade_price: price.upgrade_price,
        price_note: price.note,
        creation_materials: cells.materials(Column::CreationMaterials)?,
        upgrade_materials: cells.materials(Column::UpgradeMaterials)?,
        upgrade_from: name.upgrade_from,
        upgrade_to: name.upgrade_to,
        description: cells
            .parse(Column::Description, |cell| {
                Ok(text::joined_text(cell.children()))
            })?
            .unwrap_or_default(),
        gunner,
        bow,
        extra_notes: extra_notes
            .into_iter()
            .flat_map(|(_, notes)| notes)
            .collect(),
    };
    record.validate()?;
    Ok(record)
}

/// The `id` of the row's name cell, e.g. `l219C2`.
pub(crate) fn site_row_id<'a>(row: &Row<'a>, columns: &ColumnMap) -> Option<&'a str> {
    row.id_at(columns.position(Column::Name)?)
}

/// Cell lookup by column, with errors naming the column.
struct RowCells<'r, 'a> {
    columns: &'r ColumnMap,
    row: &'r Row<'a>,
}

impl<'a> RowCells<'_, 'a> {
    /// Parses the column's cell; `None` when the table has no such column.
    fn parse<T>(
        &self,
        column: Column,
        parse: impl FnOnce(ElementRef<'a>) -> Result<T, CellError>,
    ) -> Result<Option<T>, RowError> {
        let Some(position) = self.columns.position(column) else {
            return Ok(None);
        };
        let cell = self.row.cells[position].ok_or(RowError::MissingCell(column.label()))?;
        parse(cell).map(Some).map_err(|error| RowError::Cell {
            column: column.label(),
            error,
        })
    }

    /// Parses a column every weapon table has (checked when the header was mapped).
    fn required<T>(
        &self,
        column: Column,
        parse: impl FnOnce(ElementRef<'a>) -> Result<T, CellError>,
    ) -> Result<T, RowError> {
        self.parse(column, parse)?
            .ok_or(RowError::MissingCell(column.label()))
    }

    fn materials(&self, column: Column) -> Result<Materials, RowError> {
        Ok(self
            .parse(column, cells::parse_materials)?
            .unwrap_or_default())
    }

    /// The cell's text on one line; empty when the table has no such column.
    fn line(&self, column: Column) -> Result<String, RowError> {
        Ok(self
            .parse(column, |cell| {
                Ok(text::plain_lines(cell.children()).join(" "))
            })?
            .unwrap_or_default())
    }
}
