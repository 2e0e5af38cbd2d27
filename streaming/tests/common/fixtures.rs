//! Hand-made weapon records covering what the statistics look at: every page variant, melee,
//! bowgun and bow layouts, elements, statuses, compound and unknown attributes, defense bonuses,
//! negative affinity and 0-3 slots. Shared by the integration tests and the
//! `fixture-ndjson` example (benchmark input).

use mhfz_record::{
    Ammo, AmmoLevel, Attribute, AttributeKind, BowStats, ChargeStage, GunnerStats, HunterRank,
    Material, Materials, PageVariant, RankRequirement, Sharpness, SharpnessColour,
    SharpnessSegment, TreeLink, WeaponClass, WeaponId, WeaponRecord,
};

struct Spec {
    class: WeaponClass,
    variant: PageVariant,
    row: &'static str,
    name: &'static str,
    rarity: u8,
    attack: u32,
    affinity: i32,
    slots: u8,
    attributes: Vec<(AttributeKind, i32)>,
}

fn attr(kind: AttributeKind, value: i32) -> Attribute {
    Attribute { kind, value }
}

fn record(spec: &Spec) -> WeaponRecord {
    let layout = spec.class.layout();
    let materials = Materials {
        recipes: vec![vec![
            Material {
                item: "Kut-Ku Bone".into(),
                quantity: 3,
                item_id: Some("19F3".into()),
            },
            Material {
                item: "Iron Ore".into(),
                quantity: 10,
                item_id: None,
            },
        ]],
        note: None,
    };
    let segments = |widths: &[u16]| {
        [
            SharpnessColour::Red,
            SharpnessColour::Orange,
            SharpnessColour::Yellow,
            SharpnessColour::Green,
        ]
        .into_iter()
        .zip(widths)
        .map(|(colour, &width)| SharpnessSegment { colour, width })
        .collect::<Vec<_>>()
    };
    WeaponRecord {
        weapon_id: WeaponId::new(spec.class, spec.variant, spec.row, None),
        class: spec.class,
        variant: spec.variant,
        site_row_id: spec.row.into(),
        name: spec.name.into(),
        name_notes: if spec.variant == PageVariant::N {
            vec!["RNG Cat Weapon".into()]
        } else {
            vec![]
        },
        level: spec.variant.is_leveled().then_some(3),
        hidden: false,
        rarity: spec.rarity,
        gr_requirement: (spec.rarity >= 12).then_some(1),
        attack: spec.attack,
        affinity: spec.affinity,
        attributes: spec
            .attributes
            .iter()
            .map(|(k, v)| attr(k.clone(), *v))
            .collect(),
        unknown_attribute_lines: vec![],
        extra_notes: vec![],
        sharpness: (layout == mhfz_record::Layout::Blademaster).then(|| Sharpness {
            base: segments(&[10, 20, 30, 40]),
            max: segments(&[10, 20, 30, 50]),
        }),
        slots: spec.slots,
        rank_requirement: Some(RankRequirement {
            rank: HunterRank::Hr,
            level: Some(22),
        }),
        price: Some(12_000),
        upgrade_price: Some(3_000),
        price_note: None,
        creation_materials: materials.clone(),
        upgrade_materials: Materials {
            recipes: vec![],
            note: Some("Not Craftable".into()),
        },
        upgrade_from: vec![TreeLink {
            name: "Previous \"Blade\"".into(),
            page: None,
            site_row_id: "l0001".into(),
        }],
        upgrade_to: vec![],
        description: "A weapon forged from bones.\nIts edge hums — 爆破 \\ \"quoted\".".into(),
        gunner: (layout == mhfz_record::Layout::Bowgun).then(|| GunnerStats {
            reload: "Fast".into(),
            recoil: "Medium".into(),
            bullet_speed: "Slow".into(),
            ammo: vec![Ammo {
                name: "Norm".into(),
                levels: vec![
                    AmmoLevel {
                        capacity: Some(6),
                        underlined: false,
                    },
                    AmmoLevel {
                        capacity: None,
                        underlined: false,
                    },
                    AmmoLevel {
                        capacity: Some(9),
                        underlined: true,
                    },
                ],
            }],
        }),
        bow: (layout == mhfz_record::Layout::Bow).then(|| BowStats {
            arc_shot: Some("Wide".into()),
            charge_stages: vec![ChargeStage {
                stage: 1,
                shot: "SprLV3".into(),
                italic: false,
            }],
            coatings: vec!["Power".into()],
        }),
    }
}

/// A dozen varied records, in a fixed order.
pub fn fixture_records() -> Vec<WeaponRecord> {
    use AttributeKind::*;
    use PageVariant as V;
    use WeaponClass as C;
    let specs = [
        Spec {
            class: C::LongSword,
            variant: V::Base,
            row: "l0001",
            name: "Iron Katana",
            rarity: 1,
            attack: 480,
            affinity: 0,
            slots: 0,
            attributes: vec![],
        },
        Spec {
            class: C::LongSword,
            variant: V::G,
            row: "l219C2",
            name: "Flame Katana",
            rarity: 11,
            attack: 1200,
            affinity: -10,
            slots: 3,
            attributes: vec![(Defense, 20), (Fire, 300)],
        },
        Spec {
            class: C::LongSword,
            variant: V::S,
            row: "l3000",
            name: "Ravi Blade",
            rarity: 12,
            attack: 1500,
            affinity: 25,
            slots: 2,
            attributes: vec![(Fire, 450), (Sleep, 150)],
        },
        Spec {
            class: C::GreatSword,
            variant: V::Base,
            row: "l0100",
            name: "Buster Sword",
            rarity: 2,
            attack: 672,
            affinity: 0,
            slots: 1,
            attributes: vec![(Paralysis, 210)],
        },
        Spec {
            class: C::GreatSword,
            variant: V::Sp,
            row: "l0200",
            name: "SP Blade",
            rarity: 7,
            attack: 1104,
            affinity: 30,
            slots: 3,
            attributes: vec![(ThunderPole, 380)],
        },
        Spec {
            class: C::Hammer,
            variant: V::N,
            row: "l0300",
            name: "Cat Hammer",
            rarity: 5,
            attack: 936,
            affinity: -20,
            slots: 1,
            attributes: vec![(Water, 180), (Defense, -10)],
        },
        Spec {
            class: C::DualSwords,
            variant: V::G,
            row: "l0400",
            name: "Twin Frost",
            rarity: 11,
            attack: 700,
            affinity: 15,
            slots: 2,
            attributes: vec![(Ice, 240), (Other("Frost Zero".into()), 90)],
        },
        Spec {
            class: C::LightBowgun,
            variant: V::Base,
            row: "l0500",
            name: "Light Gun",
            rarity: 3,
            attack: 156,
            affinity: 0,
            slots: 0,
            attributes: vec![],
        },
        Spec {
            class: C::HeavyBowgun,
            variant: V::G,
            row: "l0600",
            name: "Heavy Gun",
            rarity: 12,
            attack: 480,
            affinity: 10,
            slots: 3,
            attributes: vec![(Defense, 30)],
        },
        Spec {
            class: C::Bow,
            variant: V::Sp,
            row: "l0700",
            name: "Dragon Bow",
            rarity: 8,
            attack: 240,
            affinity: 5,
            slots: 2,
            attributes: vec![(Dragon, 320)],
        },
        Spec {
            class: C::Tonfa,
            variant: V::S,
            row: "l0800",
            name: "Blast Tonfa",
            rarity: 12,
            attack: 1300,
            affinity: -30,
            slots: 1,
            attributes: vec![(Blast, 500), (Poison, 200)],
        },
        Spec {
            class: C::Lance,
            variant: V::Base,
            row: "l0900",
            name: "Knight Lance",
            rarity: 4,
            attack: 506,
            affinity: 0,
            slots: 3,
            attributes: vec![(Thunder, 150)],
        },
    ];
    specs.iter().map(record).collect()
}

/// The records as NDJSON, one line each, every line ending in `\n`.
pub fn to_ndjson(records: &[WeaponRecord]) -> String {
    records
        .iter()
        .map(|r| serde_json::to_string(r).expect("records serialize") + "\n")
        .collect()
}
