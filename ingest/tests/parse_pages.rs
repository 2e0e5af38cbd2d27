//! Page-level parser tests on small hand-written fixture pages (tests/fixtures/*.html).

use mhfz_ingest::parse::{parse_page, PageRef, ParsedPage};
use mhfz_record::{
    AmmoLevel, Attribute, AttributeKind, ChargeStage, HunterRank, Material, PageVariant,
    RankRequirement, SharpnessColour, TreeLink, WeaponClass, WeaponRecord,
};

fn parse(class: WeaponClass, variant: PageVariant, html: &[u8]) -> ParsedPage {
    let page = PageRef {
        class,
        variant,
        file_name: mhfz_record::page_file_name(class, variant),
    };
    parse_page(&page, html).expect("fixture has a weapon table")
}

fn record<'a>(parsed: &'a ParsedPage, site_row_id: &str) -> &'a WeaponRecord {
    parsed
        .records
        .iter()
        .find(|r| r.site_row_id == site_row_id)
        .unwrap_or_else(|| panic!("no record {site_row_id}"))
}

fn attr(kind: AttributeKind, value: i32) -> Attribute {
    Attribute { kind, value }
}

fn material(item: &str, quantity: u32, id: &str) -> Material {
    Material {
        item: item.into(),
        quantity,
        item_id: Some(id.into()),
    }
}

fn rank(rank: HunterRank, level: Option<u32>) -> Option<RankRequirement> {
    Some(RankRequirement { rank, level })
}

const LONG_SWORD_G: &[u8] = include_bytes!("fixtures/long_sword_g.html");

#[test]
fn g_rank_rows_levels_hidden_rows_and_materials() {
    let parsed = parse(WeaponClass::LongSword, PageVariant::G, LONG_SWORD_G);
    let ids: Vec<&str> = parsed
        .records
        .iter()
        .map(|r| r.weapon_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "long_sword:g:l0A01",
            "long_sword:g:l0A012",
            "long_sword:g:l0A013",
            "long_sword:g:l0C0050:Twin%20Blade",
            "long_sword:g:l0C0050:Twin%20Blade%2B",
        ]
    );

    let lv1 = record(&parsed, "l0A01");
    assert_eq!(lv1.name, "Test Blade");
    assert_eq!(lv1.level, Some(1));
    assert!(!lv1.hidden);
    assert_eq!((lv1.rarity, lv1.gr_requirement), (12, Some(1)));
    assert_eq!((lv1.attack, lv1.affinity), (1248, 0));
    assert_eq!(lv1.attributes, [attr(AttributeKind::Fire, 120)]);
    let sharpness = lv1.sharpness.as_ref().unwrap();
    assert_eq!(sharpness.base.len(), 3);
    assert_eq!(sharpness.max[3].colour, SharpnessColour::Green);
    assert_eq!(sharpness.max[3].width, 5);
    assert_eq!(lv1.slots, 2);
    assert_eq!(lv1.rank_requirement, rank(HunterRank::Hr, None));
    assert_eq!((lv1.price, lv1.upgrade_price), (Some(1450), None));
    assert_eq!(
        lv1.creation_materials.recipes,
        [vec![
            material("Kut-Ku Bone", 3, "19F3"),
            material("Spiderwort", 1, "19DB")
        ]]
    );
    assert!(lv1.upgrade_materials.is_empty());
    assert_eq!(lv1.description, "A test blade.\nSecond line.");
    assert!(lv1.gunner.is_none() && lv1.bow.is_none());

    let lv2 = record(&parsed, "l0A012");
    assert!(lv2.hidden, "display:none rows are parsed and marked hidden");
    assert_eq!(lv2.level, Some(2));
    assert_eq!(lv2.affinity, -10, "negative affinity is struck through");
    assert_eq!(
        lv2.attributes,
        [
            attr(AttributeKind::ThunderPole, 300),
            attr(AttributeKind::Paralysis, 210),
            attr(AttributeKind::Defense, 20),
            attr(AttributeKind::Other("Frost Zero".into()), 15),
        ]
    );
    assert_eq!(lv2.unknown_attribute_lines, ["Sparkles"]);
    assert_eq!(
        lv2.extra_notes,
        ["Length：Long", "Zenith Skill：Skill Slots Up+1"]
    );
    assert_eq!(lv2.rank_requirement, rank(HunterRank::Gr, Some(1)));
    assert_eq!((lv2.price, lv2.upgrade_price), (Some(1740), None));
    assert_eq!(lv2.price_note, None);
    assert_eq!(
        lv2.creation_materials.recipes,
        [
            vec![material("Pokaradon Claw", 3, "19FA")],
            vec![material("Caravan Trsr", 1, "1C38")]
        ]
    );
    assert_eq!(lv2.upgrade_materials.note.as_deref(), Some("なし"));
    assert_eq!(lv2.description, "");

    // Unquoted attributes and unclosed <li> (html5ever repairs both).
    let lv3 = record(&parsed, "l0A013");
    assert_eq!(lv3.level, Some(3));
    assert_eq!(lv3.gr_requirement, Some(2));
    assert_eq!(
        lv3.attributes,
        [
            attr(AttributeKind::EmperorsRoar, 300),
            attr(AttributeKind::Defense, -5)
        ]
    );
    let colours: Vec<SharpnessColour> = lv3
        .sharpness
        .as_ref()
        .unwrap()
        .max
        .iter()
        .map(|s| s.colour)
        .collect();
    assert_eq!(
        colours,
        [
            SharpnessColour::Red,
            SharpnessColour::White,
            SharpnessColour::Purple
        ]
    );
    assert_eq!(lv3.rank_requirement, rank(HunterRank::Gsr, Some(1)));
    assert_eq!(
        (lv3.price, lv3.upgrade_price, lv3.price_note.as_deref()),
        (Some(2750), Some(870), Some("Festival"))
    );
    assert_eq!(
        lv3.creation_materials.recipes,
        [vec![material("Festival Gem", 3, "1B63")]]
    );
    assert_eq!(lv3.description, "Blade of tests.\n≪Ｇ級技巧≫");

    // Every emitted record passes the record's own checks.
    for record in &parsed.records {
        record.validate().unwrap();
    }
}

#[test]
fn malformed_row_is_rejected_and_the_rest_parsed() {
    let parsed = parse(WeaponClass::LongSword, PageVariant::G, LONG_SWORD_G);
    assert_eq!(parsed.records.len(), 5);
    assert_eq!(parsed.rejects.len(), 1);
    let reject = &parsed.rejects[0];
    assert_eq!(reject.page, "tachi_g.htm");
    assert_eq!(reject.row_number, 4);
    assert_eq!(reject.site_row_id.as_deref(), Some("l0B00"));
    assert!(reject.error.contains("Rarity"), "{}", reject.error);
    assert!(reject.error.contains("twelve"), "{}", reject.error);
    assert!(reject.raw_html.starts_with("<tr>"), "{}", reject.raw_html);
    assert!(reject.raw_html.contains("Broken Blade"));
}

#[test]
fn repeated_row_id_gets_the_name_on_every_row_sharing_it() {
    let parsed = parse(WeaponClass::LongSword, PageVariant::G, LONG_SWORD_G);
    let twins: Vec<&WeaponRecord> = parsed
        .records
        .iter()
        .filter(|r| r.site_row_id == "l0C0050")
        .collect();
    assert_eq!(twins.len(), 2);
    assert_eq!(twins[0].name, "Twin Blade");
    assert_eq!(twins[1].name, "Twin Blade+");
    assert_ne!(twins[0].weapon_id, twins[1].weapon_id);
    // Rows whose id is unique keep the plain id.
    assert_eq!(
        record(&parsed, "l0A01").weapon_id.as_str(),
        "long_sword:g:l0A01"
    );
}

#[test]
fn base_page_tree_links_notes_and_price_notes() {
    let parsed = parse(
        WeaponClass::LongSword,
        PageVariant::Base,
        include_bytes!("fixtures/long_sword.html"),
    );
    assert!(parsed.rejects.is_empty(), "{:?}", parsed.rejects);
    let hellish = record(&parsed, "l0005");
    assert_eq!(hellish.name, "Hellish Slasher");
    assert_eq!(hellish.level, None);
    assert_eq!(
        hellish.upgrade_from,
        [TreeLink {
            name: "Bone Katana \"Dragon\"".into(),
            page: None,
            site_row_id: "l000F".into()
        }]
    );
    assert_eq!(
        hellish.upgrade_to,
        [
            TreeLink {
                name: "Divine Slasher".into(),
                page: None,
                site_row_id: "l00D1".into()
            },
            TreeLink {
                name: "Iron Sword+".into(),
                page: Some("taiken.htm".into()),
                site_row_id: "l0002".into()
            }
        ]
    );
    assert_eq!(hellish.rank_requirement, rank(HunterRank::Hr, Some(22)));
    assert!(hellish.creation_materials.is_empty());
    assert_eq!(hellish.upgrade_materials.recipes[0].len(), 2);

    let cat = record(&parsed, "l0006");
    assert_eq!(cat.name, "Cat Slasher");
    assert_eq!(cat.name_notes, ["RNG Cat Weapon"]);
    assert_eq!(cat.attributes, [attr(AttributeKind::Blast, 30)]);
    assert_eq!(cat.rank_requirement, None);
    assert_eq!(
        (cat.price, cat.price_note.as_deref()),
        (Some(525), Some("Gacha"))
    );
    assert_eq!(
        cat.creation_materials.note.as_deref(),
        Some("Not Craftable")
    );
    assert_eq!(cat.description, "Cat.\n≪RNG Cat Weapon≫");

    let mystery = record(&parsed, "l0007");
    assert_eq!(mystery.rank_requirement, None);
    assert_eq!(
        (mystery.price, mystery.price_note.as_deref()),
        (None, Some("なし"))
    );
    assert_eq!(mystery.creation_materials.note.as_deref(), Some("不明"));
    assert_eq!(mystery.upgrade_materials.note.as_deref(), Some("なし"));
}

#[test]
fn absent_class_with_reordered_columns_maps_by_header() {
    let parsed = parse(
        WeaponClass::Gunlance,
        PageVariant::Base,
        include_bytes!("fixtures/gunlance.html"),
    );
    assert!(parsed.rejects.is_empty(), "{:?}", parsed.rejects);
    let iron = record(&parsed, "l0100");
    assert_eq!(iron.weapon_id.as_str(), "gunlance:base:l0100");
    assert_eq!((iron.attack, iron.affinity), (345, 0));
    assert_eq!(iron.attributes, [attr(AttributeKind::Fire, 80)]);
    assert_eq!(iron.price, Some(1200));
    assert_eq!(iron.slots, 1);
    assert_eq!(iron.rank_requirement, rank(HunterRank::Hr, Some(1)));
    assert_eq!(iron.extra_notes, ["Normal Lv1"]);
    assert_eq!(
        iron.creation_materials.recipes,
        [vec![material("Iron Ore", 5, "00D8")]]
    );
    assert!(iron.upgrade_materials.is_empty());
    let plus = record(&parsed, "l0101");
    assert_eq!(plus.affinity, -5);
    assert_eq!(
        plus.upgrade_materials.recipes,
        [vec![material("Iron Ore", 2, "00D8")]]
    );
    assert_eq!(plus.upgrade_from[0].name, "Iron Gunlance");
    assert_eq!(plus.description, "Better.");
}

#[test]
fn bowgun_row() {
    let parsed = parse(
        WeaponClass::HeavyBowgun,
        PageVariant::Base,
        include_bytes!("fixtures/heavy_bowgun.html"),
    );
    assert!(parsed.rejects.is_empty(), "{:?}", parsed.rejects);
    let arbalest = record(&parsed, "l000D");
    assert_eq!((arbalest.attack, arbalest.slots), (228, 3));
    assert_eq!(arbalest.attributes, [attr(AttributeKind::Defense, 6)]);
    assert!(arbalest.sharpness.is_none() && arbalest.bow.is_none());
    let gunner = arbalest.gunner.as_ref().unwrap();
    assert_eq!(
        (
            gunner.reload.as_str(),
            gunner.recoil.as_str(),
            gunner.bullet_speed.as_str()
        ),
        ("Slow", "Medium", "Fast")
    );
    let names: Vec<&str> = gunner.ammo.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Norm", "Pierc", "Recov", "Psn", "Flame", "Water"]);
    let level = |capacity, underlined| AmmoLevel {
        capacity,
        underlined,
    };
    assert_eq!(
        gunner.ammo[1].levels,
        [
            level(Some(3), false),
            level(Some(3), true),
            level(Some(3), true)
        ]
    );
    assert_eq!(
        gunner.ammo[3].levels,
        [level(None, false), level(None, false)]
    );
    assert_eq!(
        arbalest.extra_notes,
        ["Rapid Fire：LV1Normal S", "Zenith Skill：Skill Slots Up+1"]
    );
    assert_eq!(
        arbalest.description,
        "最も多く流通している\nヘビィボウガン。"
    );
}

#[test]
fn bow_row() {
    let parsed = parse(
        WeaponClass::Bow,
        PageVariant::S,
        include_bytes!("fixtures/bow.html"),
    );
    assert!(parsed.rejects.is_empty(), "{:?}", parsed.rejects);
    let lv1 = record(&parsed, "l034D");
    assert_eq!(lv1.attributes, [attr(AttributeKind::Dragon, 100)]);
    assert!(lv1.unknown_attribute_lines.is_empty());
    let bow = lv1.bow.as_ref().unwrap();
    assert_eq!(bow.arc_shot.as_deref(), Some("Wide"));
    let stage = |stage, shot: &str, italic| ChargeStage {
        stage,
        shot: shot.into(),
        italic,
    };
    assert_eq!(
        bow.charge_stages,
        [
            stage(1, "RpdLV3", false),
            stage(2, "PrcLV3", false),
            stage(3, "RpdLV4", false),
            stage(4, "SprLV4", true)
        ]
    );
    assert_eq!(
        bow.coatings,
        ["Power Coating", "Poison Up＋３", "Impact Coating"]
    );
    assert_eq!(lv1.extra_notes, ["Zenith Skill：Skill Slots Up+1"]);
    assert!(lv1.sharpness.is_none() && lv1.gunner.is_none());

    let lv2 = record(&parsed, "l034D2");
    assert!(
        lv2.hidden,
        "style=\"display: none\" with a space is hidden too"
    );
    assert_eq!(lv2.level, Some(2));
    assert_eq!(lv2.price, Some(70));
}
