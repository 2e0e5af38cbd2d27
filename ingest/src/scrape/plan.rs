//! Which pages to fetch: the class index's links, narrowed to the chosen classes and widened to
//! every English variant of each class.

use mhfz_record::{page_file_name, PageVariant, WeaponClass};

use crate::parse::PageRef;

/// Whether a page must exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// Linked by the class index (or the base page of a class asked for by name): a 404 is an
    /// error.
    Expected,
    /// Not linked (`_sp` pages never are, `_n` pages only for some classes): a 404 means the
    /// class has no such page.
    Probed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPage {
    pub page: PageRef,
    pub expectation: Expectation,
}

/// A linked page that is deliberately not scraped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedPage {
    pub file_name: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub pages: Vec<PlannedPage>,
    pub skipped: Vec<SkippedPage>,
}

/// What a link of the class index points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexLink {
    Weapon(WeaponClass, PageVariant),
    /// `tachi_t.htm`: Japanese tower tables, not weapon rows.
    Tower(WeaponClass),
    /// `taiken_partnya.htm`, `buki_partnya.htm`: partner (Partnya) equipment.
    Partner(Option<WeaponClass>),
    /// Anything else (other sections of the site).
    Other,
}

pub const TOWER_REASON: &str = "tower page (Japanese tables, not weapon rows)";
pub const PARTNER_REASON: &str = "partner (Partnya) page";

/// Classifies one link target; `#anchors` are ignored.
pub fn classify_link(link: &str) -> IndexLink {
    let file = link.split('#').next().unwrap_or_default();
    let Some(stem) = file.strip_suffix(".htm") else {
        return IndexLink::Other;
    };
    if let Some(owner) = stem.strip_suffix("_partnya") {
        return IndexLink::Partner(WeaponClass::from_page_stem(owner));
    }
    if let Some(class) = stem
        .strip_suffix("_t")
        .and_then(WeaponClass::from_page_stem)
    {
        return IndexLink::Tower(class);
    }
    // Longest suffix first, so that `_sp` is not read as a class stem ending in `_s` + `p`.
    let mut variants = PageVariant::ALL;
    variants.sort_by_key(|variant| std::cmp::Reverse(variant.page_suffix().len()));
    variants
        .into_iter()
        .find_map(|variant| {
            let class_stem = stem.strip_suffix(variant.page_suffix())?;
            Some(IndexLink::Weapon(
                WeaponClass::from_page_stem(class_stem)?,
                variant,
            ))
        })
        .unwrap_or(IndexLink::Other)
}

/// Plans the scrape from the index's links. `classes`: only these, in this order (their base
/// pages expected even if the index does not link them); `None`: every class the index links,
/// in index order.
pub fn plan(index_links: &[String], classes: Option<&[WeaponClass]>) -> Plan {
    let links: Vec<IndexLink> = index_links.iter().map(|l| classify_link(l)).collect();
    let chosen: Vec<WeaponClass> = match classes {
        Some(classes) => dedup(classes.iter().copied()),
        None => dedup(links.iter().filter_map(|link| match link {
            IndexLink::Weapon(class, _) => Some(*class),
            _ => None,
        })),
    };
    let is_linked = |class, variant| links.contains(&IndexLink::Weapon(class, variant));

    let mut plan = Plan::default();
    for &class in &chosen {
        for variant in PageVariant::ALL {
            let expected =
                is_linked(class, variant) || (classes.is_some() && variant == PageVariant::Base);
            plan.pages.push(PlannedPage {
                page: PageRef {
                    class,
                    variant,
                    file_name: page_file_name(class, variant),
                },
                expectation: if expected {
                    Expectation::Expected
                } else {
                    Expectation::Probed
                },
            });
        }
    }
    for (raw, link) in index_links.iter().zip(&links) {
        let file_name = raw.split('#').next().unwrap_or_default().to_string();
        let skipped = match link {
            IndexLink::Tower(class) if chosen.contains(class) => TOWER_REASON,
            IndexLink::Partner(owner) if owner.is_none_or(|class| chosen.contains(&class)) => {
                PARTNER_REASON
            }
            _ => continue,
        };
        if !plan.skipped.iter().any(|s| s.file_name == file_name) {
            plan.skipped.push(SkippedPage {
                file_name,
                reason: skipped,
            });
        }
    }
    plan
}

fn dedup(classes: impl Iterator<Item = WeaponClass>) -> Vec<WeaponClass> {
    let mut unique = Vec::new();
    for class in classes {
        if !unique.contains(&class) {
            unique.push(class);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn links_are_classified() {
        use IndexLink::*;
        use PageVariant::*;
        assert_eq!(
            classify_link("tachi.htm"),
            Weapon(WeaponClass::LongSword, Base)
        );
        assert_eq!(
            classify_link("tachi_g.htm#t8"),
            Weapon(WeaponClass::LongSword, G)
        );
        assert_eq!(classify_link("yumi_sp.htm"), Weapon(WeaponClass::Bow, Sp));
        assert_eq!(
            classify_link("magspike_n.htm"),
            Weapon(WeaponClass::MagnetSpike, N)
        );
        assert_eq!(classify_link("tachi_t.htm"), Tower(WeaponClass::LongSword));
        assert_eq!(
            classify_link("taiken_partnya.htm"),
            Partner(Some(WeaponClass::GreatSword))
        );
        assert_eq!(classify_link("buki_partnya.htm"), Partner(None));
        assert_eq!(classify_link("bukiF.htm"), Other);
        assert_eq!(classify_link("../index.htm"), Other);
        assert_eq!(classify_link("tachi.html"), Other);
    }

    #[test]
    fn index_driven_plan_expects_linked_pages_and_probes_the_rest() {
        let plan = plan(
            &links(&[
                "tachi.htm",
                "tachi_g.htm#t8",
                "right.htm",
                "tachi_t.htm",
                "x.htm",
            ]),
            None,
        );
        let summary: Vec<(String, Expectation)> = plan
            .pages
            .iter()
            .map(|p| (p.page.file_name.clone(), p.expectation))
            .collect();
        use Expectation::*;
        assert_eq!(
            summary,
            [
                ("tachi.htm", Expected),
                ("tachi_g.htm", Expected),
                ("tachi_s.htm", Probed),
                ("tachi_sp.htm", Probed),
                ("tachi_n.htm", Probed),
                ("right.htm", Expected),
                ("right_g.htm", Probed),
                ("right_s.htm", Probed),
                ("right_sp.htm", Probed),
                ("right_n.htm", Probed),
            ]
            .map(|(name, expectation)| (name.to_string(), expectation))
        );
        assert_eq!(
            plan.skipped,
            [SkippedPage {
                file_name: "tachi_t.htm".into(),
                reason: TOWER_REASON
            }]
        );
    }

    #[test]
    fn explicit_classes_keep_their_order_and_expect_base_pages() {
        let plan = plan(
            &links(&[
                "tachi.htm",
                "tachi_t.htm",
                "buki_partnya.htm",
                "taiken_partnya.htm",
            ]),
            Some(&[WeaponClass::Bow, WeaponClass::LongSword, WeaponClass::Bow]),
        );
        let pages: Vec<&str> = plan
            .pages
            .iter()
            .map(|p| p.page.file_name.as_str())
            .collect();
        assert_eq!(pages.len(), 10);
        assert_eq!(pages[0], "yumi.htm");
        assert_eq!(pages[5], "tachi.htm");
        assert_eq!(plan.pages[0].expectation, Expectation::Expected);
        assert_eq!(plan.pages[1].expectation, Expectation::Probed);
        let skipped: Vec<&str> = plan.skipped.iter().map(|s| s.file_name.as_str()).collect();
        // The great sword's partner page is not about a chosen class.
        assert_eq!(skipped, ["tachi_t.htm", "buki_partnya.htm"]);
    }
}
