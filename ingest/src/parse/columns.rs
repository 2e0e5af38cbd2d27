//! Table columns, recognised by their header text rather than by position: the pages of
//! different classes and variants order and name their columns differently.

/// What a table column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    Name,
    Rarity,
    /// `Attributes`, `Attribute`, `Attack`, `Attack Attribute`: attack, affinity and attributes.
    Attack,
    Sharpness,
    Slots,
    Rank,
    Price,
    /// `Creation Mats`, `100%Creation Mats`.
    CreationMaterials,
    /// `Upgrade Mats`, `60%Creation Mats`.
    UpgradeMaterials,
    Description,
    /// `Reload<br>Recoil<br>Bullet Speed`: one header and one cell for the three values.
    ReloadRecoilSpeed,
    Reload,
    Recoil,
    BulletSpeed,
    Ammo,
    ChargeStage,
    Coatings,
}

impl Column {
    /// Name used in error messages.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::Rarity => "Rarity",
            Column::Attack => "Attack",
            Column::Sharpness => "Sharpness",
            Column::Slots => "Slots",
            Column::Rank => "Rank",
            Column::Price => "Price",
            Column::CreationMaterials => "Creation Mats",
            Column::UpgradeMaterials => "Upgrade Mats",
            Column::Description => "Description",
            Column::ReloadRecoilSpeed => "Reload/Recoil/Bullet Speed",
            Column::Reload => "Reload",
            Column::Recoil => "Recoil",
            Column::BulletSpeed => "Bullet Speed",
            Column::Ammo => "Ammo",
            Column::ChargeStage => "Charge Stage",
            Column::Coatings => "Coating",
        }
    }
}

/// The header of a weapon table is recognised by this first column.
pub(crate) const NAME_HEADER: &str = "name";
/// Tower (`_t`) pages: Japanese headers, weapon upgrade costs rather than weapons.
pub(crate) const TOWER_NAME_HEADER: &str = "名称";

/// Why a header row could not be mapped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    Unknown(String),
    Duplicate(String),
    Missing(Column),
}

/// Column kinds by position, as read from the header row.
#[derive(Debug)]
pub(crate) struct ColumnMap {
    columns: Vec<Column>,
}

impl ColumnMap {
    /// Maps header labels (lines of each header cell, see [`normalise`]) to columns.
    pub(crate) fn from_labels(labels: &[String]) -> Result<ColumnMap, HeaderError> {
        let mut columns: Vec<Column> = Vec::with_capacity(labels.len());
        for label in labels {
            let column = match normalise(label).as_str() {
                NAME_HEADER => Column::Name,
                "rarity" => Column::Rarity,
                "attributes" | "attribute" | "attack" | "attack attribute" => Column::Attack,
                "sharpness" => Column::Sharpness,
                "slots" | "slot" => Column::Slots,
                "rank" => Column::Rank,
                "price" => Column::Price,
                "upgrade mats" | "60%creation mats" | "60% creation mats" => {
                    Column::UpgradeMaterials
                }
                // Partner pages title both materials columns "Creation Mats".
                "creation mats" | "100%creation mats" | "100% creation mats" => {
                    if columns.contains(&Column::CreationMaterials) {
                        Column::UpgradeMaterials
                    } else {
                        Column::CreationMaterials
                    }
                }
                "description" => Column::Description,
                "reload/recoil/bullet speed" => Column::ReloadRecoilSpeed,
                "reload" => Column::Reload,
                "recoil" => Column::Recoil,
                "bullet speed" => Column::BulletSpeed,
                "ammo" => Column::Ammo,
                "charge stage" | "charge stages" => Column::ChargeStage,
                "coatings" | "coating" => Column::Coatings,
                _ => return Err(HeaderError::Unknown(label.clone())),
            };
            if columns.contains(&column) {
                return Err(HeaderError::Duplicate(label.clone()));
            }
            columns.push(column);
        }
        for required in [Column::Name, Column::Rarity, Column::Attack] {
            if !columns.contains(&required) {
                return Err(HeaderError::Missing(required));
            }
        }
        Ok(ColumnMap { columns })
    }

    pub(crate) fn len(&self) -> usize {
        self.columns.len()
    }

    pub(crate) fn position(&self, column: Column) -> Option<usize> {
        self.columns.iter().position(|&c| c == column)
    }

    pub(crate) fn has(&self, column: Column) -> bool {
        self.position(column).is_some()
    }
}

/// Lower case, header lines joined by `/`, whitespace runs collapsed: `Reload<br>Recoil<br>Bullet
/// Speed` → `reload/recoil/bullet speed`.
pub(crate) fn normalise(label: &str) -> String {
    label
        .split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("/")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(labels: &[&str]) -> Result<ColumnMap, HeaderError> {
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        ColumnMap::from_labels(&labels)
    }

    #[test]
    fn g_rank_and_partner_materials() {
        let g = map(&[
            "Name",
            "Rarity",
            "Attribute",
            "100%Creation Mats",
            "60%Creation Mats",
        ])
        .unwrap();
        assert_eq!(g.position(Column::CreationMaterials), Some(3));
        assert_eq!(g.position(Column::UpgradeMaterials), Some(4));
        let partner = map(&[
            "Name",
            "Rarity",
            "Attributes",
            "Creation Mats",
            "Creation Mats",
        ])
        .unwrap();
        assert_eq!(partner.position(Column::UpgradeMaterials), Some(4));
    }

    #[test]
    fn bowgun_combined_header() {
        let m = map(&[
            "Name",
            "Rarity",
            "Attack",
            "Reload\nRecoil\nBullet Speed",
            "Ammo",
        ])
        .unwrap();
        assert_eq!(m.position(Column::ReloadRecoilSpeed), Some(3));
    }

    #[test]
    fn unknown_duplicate_and_missing() {
        assert_eq!(
            map(&["Name", "Rarity", "Attack", "Colour"]).unwrap_err(),
            HeaderError::Unknown("Colour".into())
        );
        assert_eq!(
            map(&["Name", "Rarity", "Attack", "Rank", "Rank"]).unwrap_err(),
            HeaderError::Duplicate("Rank".into())
        );
        assert_eq!(
            map(&["Name", "Rarity"]).unwrap_err(),
            HeaderError::Missing(Column::Attack)
        );
    }
}
