//! What the page shows, computed from the tables: the values the template lays out.

use mhfz_record::{page_file_name, WeaponClass, WeaponId};
use mhfz_store::WeaponChange;
use mhfz_streaming::key::{Dimension, HistogramDimension};
use mhfz_streaming::metric::Metric;
use mhfz_streaming::row::{HistogramRow, StatisticsRow};
use serde::Serialize;

use crate::svg::{self, Bar, Range, Share};
use crate::tables::Tables;
use crate::Changes;

/// At most this many changed weapons are listed (the count is always given).
pub const CHANGES_LISTED: usize = 500;

/// The statistics dimensions the report reads (`weapon_statistics.dimension`).
const CLASS: &str = Dimension::Class.name();
const CLASS_RARITY: &str = Dimension::ClassRarity.name();
const CLASS_ELEMENT: &str = Dimension::ClassElement.name();

#[derive(Debug, Serialize)]
pub struct Page {
    pub title: String,
    pub records: u64,
    pub overview: Chart,
    pub classes: Vec<ClassSection>,
    pub changes: ChangesView,
}

/// One chart: `kind` and `class` name it for readers and for the browser test.
#[derive(Debug, Serialize)]
pub struct Chart {
    pub kind: &'static str,
    pub class: String,
    pub title: String,
    pub svg: String,
}

#[derive(Debug, Serialize)]
pub struct ClassSection {
    pub id: &'static str,
    pub label: &'static str,
    pub records: u64,
    pub attack: String,
    pub affinity: String,
    pub charts: Vec<Chart>,
    pub top: Vec<TopTable>,
}

#[derive(Debug, Serialize)]
pub struct TopTable {
    pub metric: &'static str,
    pub title: &'static str,
    pub rows: Vec<TopEntry>,
}

#[derive(Debug, Serialize)]
pub struct TopEntry {
    pub rank: u32,
    pub weapon_id: String,
    pub name: String,
    pub rarity: u8,
    pub value: i64,
    /// The weapon's row on the site; `None` for an id of another shape.
    pub url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ChangesView {
    /// `not_read`, `first_run` or `listed`.
    pub state: &'static str,
    pub since: String,
    pub until: String,
    pub count: usize,
    pub listed: Vec<ChangedWeapon>,
}

#[derive(Debug, Serialize)]
pub struct ChangedWeapon {
    pub weapon_id: String,
    pub class: String,
    /// `None`: a new weapon.
    pub version_before: Option<i32>,
    pub version_after: i32,
    pub url: Option<String>,
}

/// The page for `tables`; links point into the site at `site_url`.
pub fn page(title: &str, site_url: &str, tables: &Tables, changes: &Changes) -> Page {
    let class_rows: Vec<&StatisticsRow> = WeaponClass::ALL
        .into_iter()
        .filter_map(|class| {
            tables
                .statistics
                .iter()
                .find(|row| row.dimension == CLASS && row.class == Some(class))
        })
        .collect();
    let records: u64 = class_rows.iter().map(|row| row.records).sum();
    let class_shares: Vec<Share> = class_rows
        .iter()
        .map(|row| Share {
            label: class_id(row).into(),
            records: row.records,
            total: records,
        })
        .collect();
    let overview = Chart {
        kind: "weapons-per-class",
        class: "all".into(),
        title: "Weapons per class (share of all weapons)".into(),
        svg: svg::share_chart(&class_shares),
    };
    Page {
        title: title.into(),
        records,
        overview,
        classes: class_rows
            .iter()
            .map(|row| class_section(row, site_url, tables))
            .collect(),
        changes: changes_view(site_url, changes),
    }
}

fn class_id(row: &StatisticsRow) -> &'static str {
    row.class.map_or("", WeaponClass::id)
}

fn class_section(row: &StatisticsRow, site_url: &str, tables: &Tables) -> ClassSection {
    let class = row.class.expect("class rows have a class");
    let chart = |kind: &'static str, title: String, svg: String| Chart {
        kind,
        class: class.id().into(),
        title,
        svg,
    };
    let mut rarity_ranges: Vec<(u8, Range)> = tables
        .statistics
        .iter()
        .filter(|r| r.dimension == CLASS_RARITY && r.class == Some(class))
        .filter_map(|r| {
            let range = Range {
                label: r.rarity?.to_string(),
                min: r.attack.min?,
                max: r.attack.max?,
                mean_text: format!("{:.4}", r.attack.mean?),
                mean: r.attack.mean?,
            };
            Some((r.rarity?, range))
        })
        .collect();
    rarity_ranges.sort_by_key(|(rarity, _)| *rarity);
    let rarity_ranges: Vec<Range> = rarity_ranges.into_iter().map(|(_, range)| range).collect();
    let mut shares: Vec<Share> = tables
        .statistics
        .iter()
        .filter(|r| r.dimension == CLASS_ELEMENT && r.class == Some(class))
        .map(|r| Share {
            label: r.element.clone().unwrap_or_default(),
            records: r.records,
            total: row.records,
        })
        .collect();
    // The most common first.
    shares.sort_by(|a, b| {
        b.records
            .cmp(&a.records)
            .then_with(|| a.label.cmp(&b.label))
    });
    let slot_labels = ["0", "1", "2", "3", "4+"];
    let slot_bars: Vec<Bar> = row
        .slots
        .iter()
        .enumerate()
        .map(|(slot, &records)| Bar {
            slot,
            label: slot_labels[slot].into(),
            value: records,
        })
        .collect();
    let charts = vec![
        histogram_chart(
            class,
            Metric::Attack,
            "attack-distribution",
            "Attack",
            tables,
        ),
        chart(
            "attack-by-rarity",
            "Attack by rarity (min–max, dot: mean)".into(),
            svg::range_chart(&rarity_ranges),
        ),
        chart(
            "element-shares",
            "Element and status shares (weapons with each)".into(),
            svg::share_chart(&shares),
        ),
        histogram_chart(
            class,
            Metric::Affinity,
            "affinity-distribution",
            "Affinity (%)",
            tables,
        ),
        chart(
            "slots",
            "Decoration slots".into(),
            svg::bar_chart(&slot_bars, slot_bars.len(), |slot| slot_labels[slot].into()),
        ),
    ];
    ClassSection {
        id: class.id(),
        label: class.label(),
        records: row.records,
        attack: summary(&row.attack),
        affinity: summary(&row.affinity),
        charts,
        top: top_tables(class, site_url, tables),
    }
}

fn summary(metric: &mhfz_streaming::row::MetricSummary) -> String {
    match (metric.min, metric.max, metric.mean) {
        (Some(min), Some(max), Some(mean)) => format!("{min} to {max}, mean {mean:.1}"),
        _ => "none".into(),
    }
}

/// The class's histogram of `metric` (dimension `class`): one bar per row, gaps for the empty
/// buckets between the lowest and the highest.
fn histogram_chart(
    class: WeaponClass,
    metric: Metric,
    kind: &'static str,
    what: &str,
    tables: &Tables,
) -> Chart {
    let mut rows: Vec<&HistogramRow> = tables
        .histograms
        .iter()
        .filter(|r| {
            r.dimension == HistogramDimension::Class && r.class == class && r.metric == metric
        })
        .collect();
    rows.sort_by_key(|r| r.bucket_min);
    let width = metric.bucket_width();
    let first = rows.first().map_or(0, |r| r.bucket_min);
    let slots = rows
        .last()
        .map_or(0, |r| ((r.bucket_min - first) / width) as usize + 1);
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| Bar {
            slot: ((r.bucket_min - first) / width) as usize,
            label: r.bucket_min.to_string(),
            value: r.records,
        })
        .collect();
    Chart {
        kind,
        class: class.id().into(),
        title: format!("{what}: weapons per bucket of {width}"),
        svg: svg::bar_chart(&bars, slots, |slot| {
            (first + slot as i64 * width).to_string()
        }),
    }
}

fn top_tables(class: WeaponClass, site_url: &str, tables: &Tables) -> Vec<TopTable> {
    [
        (Metric::Attack, "Top attack"),
        (Metric::Element, "Top element or status value"),
        (Metric::Affinity, "Top affinity"),
    ]
    .into_iter()
    .map(|(metric, title)| {
        let mut rows: Vec<TopEntry> = tables
            .top
            .iter()
            .filter(|r| r.class == class && r.metric == metric)
            .map(|r| TopEntry {
                rank: r.rank,
                weapon_id: r.weapon_id.clone(),
                name: r.name.clone(),
                rarity: r.rarity,
                value: r.value,
                url: site_link(site_url, &r.weapon_id),
            })
            .collect();
        rows.sort_by_key(|r| r.rank);
        TopTable {
            metric: metric.name(),
            title,
            rows,
        }
    })
    .collect()
}

/// The weapon's row on the site: `<site>/<page>#<row id>`.
pub fn site_link(site_url: &str, weapon_id: &str) -> Option<String> {
    let (class, variant, row_id) = WeaponId::site_row(weapon_id)?;
    let base = site_url.trim_end_matches('/');
    Some(format!(
        "{base}/{}#{row_id}",
        page_file_name(class, variant)
    ))
}

fn changes_view(site_url: &str, changes: &Changes) -> ChangesView {
    let (state, since, until, weapons): (_, _, _, &[WeaponChange]) = match changes {
        Changes::NotRead => ("not_read", "", "", &[]),
        Changes::FirstRun { until } => ("first_run", "", until.as_str(), &[]),
        Changes::Since {
            since,
            until,
            weapons,
        } => ("listed", since.as_str(), until.as_str(), weapons),
    };
    ChangesView {
        state,
        since: since.into(),
        until: until.into(),
        count: weapons.len(),
        listed: weapons
            .iter()
            .take(CHANGES_LISTED)
            .map(|change| ChangedWeapon {
                weapon_id: change.weapon_id.clone(),
                class: change.class.clone(),
                version_before: change.version_before,
                version_after: change.version_after,
                url: site_link(site_url, &change.weapon_id),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_go_to_the_weapons_row_on_its_page() {
        assert_eq!(
            site_link("https://example.invalid/buki/", "long_sword:g:l219C2").as_deref(),
            Some("https://example.invalid/buki/tachi_g.htm#l219C2")
        );
        assert_eq!(
            site_link("http://127.0.0.1:8000", "switch_axe_f:g:l3C4D50:Torag%E3").as_deref(),
            Some("http://127.0.0.1:8000/slaxe_g.htm#l3C4D50")
        );
        assert_eq!(site_link("https://x/", "nonsense"), None);
    }
}
