//! Group keys: which statistics row a record contributes to, as sortable plain text.
//!
//! A key is the dimension name followed by that dimension's coordinates, joined with `|`:
//!
//! | dimension       | key                                | example                          |
//! |-----------------|------------------------------------|----------------------------------|
//! | `all`           | `all`                              | `all`                            |
//! | `class`         | `class|<class>`                    | `class|long_sword`               |
//! | `class_rarity`  | `class_rarity|<class>|<rarity:02>` | `class_rarity|long_sword|07`     |
//! | `class_variant` | `class_variant|<class>|<variant>`  | `class_variant|long_sword|g`     |
//! | `class_element` | `class_element|<class>|<element>`  | `class_element|long_sword|fire`  |
//! | `element`       | `element|<element>`                | `element|fire`                   |
//!
//! Histogram and top-N partials have keys of their own, in namespaces no dimension is named
//! after ([`PartialKey`]):
//!
//! | partial                    | key                                                 | example                                   |
//! |----------------------------|-----------------------------------------------------|-------------------------------------------|
//! | histogram per class        | `histogram|class|<class>|<metric>`                  | `histogram|class|bow|attack`              |
//! | histogram per class×rarity | `histogram|class_rarity|<class>|<rarity:02>|<metric>` | `histogram|class_rarity|bow|07|affinity` |
//! | top-N per class            | `top|<class>|<metric>`                              | `top|bow|element`                         |
//!
//! Classes, variants and elements are the record's snake-case ids; rarity is zero-padded to two
//! digits so that byte-wise order is numeric order. An attribute the record crate does not know
//! keeps the site's label as its id; in a key its bytes `%`, `|`, `\` and ASCII control
//! characters are written `%XX`, so a key never contains a tab, newline, separator or Hive
//! escape, and the byte-wise order of keys equals the byte-wise order of whole `key\tvalue`
//! lines (which is what `LC_ALL=C sort` and Hadoop's shuffle produce).

use std::fmt;
use std::io::{self, Write};

use mhfz_record::{AttributeKind, PageVariant, WeaponClass};

use crate::metric::Metric;
use crate::text;

/// A coordinate of a dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coordinate {
    Class,
    Rarity,
    Variant,
    Element,
}

/// A way of grouping records; one statistics row per distinct coordinate tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dimension {
    All,
    Class,
    ClassRarity,
    ClassVariant,
    ClassElement,
    Element,
}

impl Dimension {
    pub const ALL: [Dimension; 6] = [
        Dimension::All,
        Dimension::Class,
        Dimension::ClassRarity,
        Dimension::ClassVariant,
        Dimension::ClassElement,
        Dimension::Element,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Dimension::All => "all",
            Dimension::Class => "class",
            Dimension::ClassRarity => "class_rarity",
            Dimension::ClassVariant => "class_variant",
            Dimension::ClassElement => "class_element",
            Dimension::Element => "element",
        }
    }

    pub const fn coordinates(self) -> &'static [Coordinate] {
        use Coordinate::*;
        match self {
            Dimension::All => &[],
            Dimension::Class => &[Class],
            Dimension::ClassRarity => &[Class, Rarity],
            Dimension::ClassVariant => &[Class, Variant],
            Dimension::ClassElement => &[Class, Element],
            Dimension::Element => &[Element],
        }
    }

    fn from_name(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// A key as the mapper builds it: typed, cheap to hash, rendered to text only when emitted.
/// Coordinates that are not part of the dimension are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupKey {
    pub dimension: Dimension,
    pub class: Option<WeaponClass>,
    pub rarity: Option<u8>,
    pub variant: Option<PageVariant>,
    pub element: Option<AttributeKind>,
}

impl GroupKey {
    pub fn all() -> GroupKey {
        GroupKey {
            dimension: Dimension::All,
            class: None,
            rarity: None,
            variant: None,
            element: None,
        }
    }

    pub fn class(class: WeaponClass) -> GroupKey {
        GroupKey {
            dimension: Dimension::Class,
            class: Some(class),
            ..GroupKey::all()
        }
    }

    pub fn class_rarity(class: WeaponClass, rarity: u8) -> GroupKey {
        GroupKey {
            dimension: Dimension::ClassRarity,
            rarity: Some(rarity),
            ..GroupKey::class(class)
        }
    }

    pub fn class_variant(class: WeaponClass, variant: PageVariant) -> GroupKey {
        GroupKey {
            dimension: Dimension::ClassVariant,
            variant: Some(variant),
            ..GroupKey::class(class)
        }
    }

    pub fn class_element(class: WeaponClass, element: AttributeKind) -> GroupKey {
        GroupKey {
            dimension: Dimension::ClassElement,
            element: Some(element),
            ..GroupKey::class(class)
        }
    }

    pub fn element(element: AttributeKind) -> GroupKey {
        GroupKey {
            dimension: Dimension::Element,
            element: Some(element),
            ..GroupKey::all()
        }
    }

    /// Writes the text form (see the module docs).
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(self.dimension.name().as_bytes())?;
        for coordinate in self.dimension.coordinates() {
            out.write_all(b"|")?;
            match coordinate {
                Coordinate::Class => out.write_all(self.class_id().as_bytes())?,
                Coordinate::Rarity => write!(out, "{:02}", self.rarity.unwrap_or_default())?,
                Coordinate::Variant => {
                    out.write_all(self.variant.map_or("", PageVariant::id).as_bytes())?
                }
                Coordinate::Element => {
                    text::write_escaped(self.element.as_ref().map_or("", AttributeKind::id), out)?
                }
            }
        }
        Ok(())
    }

    fn class_id(&self) -> &'static str {
        self.class.map_or("", WeaponClass::id)
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Vec::new();
        self.write_to(&mut text).map_err(|_| fmt::Error)?;
        f.write_str(&String::from_utf8_lossy(&text))
    }
}

/// A text key read back by the reducer, borrowing from its input line. The element stays in its
/// escaped form, which is also how statistics rows print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    pub dimension: Dimension,
    pub class: Option<WeaponClass>,
    pub rarity: Option<u8>,
    pub variant: Option<PageVariant>,
    pub element: Option<&'a str>,
}

impl<'a> ParsedKey<'a> {
    /// Parses and validates a key: only the exact text [`GroupKey::write_to`] produces is
    /// accepted (no page stems for classes, no unpadded rarities, no unescaped bytes).
    pub fn parse(text: &'a str) -> Result<ParsedKey<'a>, KeyError> {
        let mut parts = text.split('|');
        let name = parts.next().unwrap_or_default();
        let dimension = Dimension::from_name(name)
            .ok_or_else(|| KeyError::UnknownDimension(truncated(name)))?;
        let mut key = ParsedKey {
            dimension,
            class: None,
            rarity: None,
            variant: None,
            element: None,
        };
        for &coordinate in dimension.coordinates() {
            let part = parts.next().ok_or(KeyError::Arity(dimension.name()))?;
            let invalid = || KeyError::InvalidCoordinate {
                coordinate,
                text: truncated(part),
            };
            match coordinate {
                Coordinate::Class => key.class = Some(parse_class(part)?),
                Coordinate::Variant => {
                    key.variant = Some(
                        PageVariant::ALL
                            .into_iter()
                            .find(|v| v.id() == part)
                            .ok_or_else(invalid)?,
                    )
                }
                Coordinate::Rarity => key.rarity = Some(parse_rarity(part)?),
                Coordinate::Element => {
                    if !is_escaped_element(part) {
                        return Err(invalid());
                    }
                    key.element = Some(part)
                }
            }
        }
        if parts.next().is_some() {
            return Err(KeyError::Arity(dimension.name()));
        }
        Ok(key)
    }
}

/// Non-empty and exactly what the `%XX` escape produces.
fn is_escaped_element(text: &str) -> bool {
    !text.is_empty() && text::is_escaped(text)
}

/// The namespace of histogram keys (no [`Dimension`] has this name).
pub const HISTOGRAM_NAMESPACE: &str = "histogram";
/// The namespace of top-N keys (no [`Dimension`] has this name).
pub const TOP_NAMESPACE: &str = "top";

/// The groupings histograms are kept for: per class, and per class and rarity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HistogramDimension {
    Class,
    ClassRarity,
}

impl HistogramDimension {
    pub const ALL: [HistogramDimension; 2] =
        [HistogramDimension::Class, HistogramDimension::ClassRarity];

    /// The same names as the statistics dimensions of the same grouping.
    pub const fn name(self) -> &'static str {
        match self {
            HistogramDimension::Class => Dimension::Class.name(),
            HistogramDimension::ClassRarity => Dimension::ClassRarity.name(),
        }
    }
}

/// The key of a histogram partial: one metric of one class or class and rarity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HistogramKey {
    pub class: WeaponClass,
    /// `Some` exactly for [`HistogramDimension::ClassRarity`].
    pub rarity: Option<u8>,
    pub metric: Metric,
}

impl HistogramKey {
    pub fn dimension(&self) -> HistogramDimension {
        match self.rarity {
            None => HistogramDimension::Class,
            Some(_) => HistogramDimension::ClassRarity,
        }
    }

    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        write!(
            out,
            "{HISTOGRAM_NAMESPACE}|{}|{}|",
            self.dimension().name(),
            self.class.id()
        )?;
        if let Some(rarity) = self.rarity {
            write!(out, "{rarity:02}|")?;
        }
        out.write_all(self.metric.name().as_bytes())
    }

    /// Parses the part after `histogram|`.
    fn parse(rest: &str) -> Result<HistogramKey, KeyError> {
        let parts: Vec<&str> = rest.split('|').collect();
        let (class, rarity, metric) = match parts[..] {
            [dimension, class, metric] if dimension == HistogramDimension::Class.name() => {
                (class, None, metric)
            }
            [dimension, class, rarity, metric]
                if dimension == HistogramDimension::ClassRarity.name() =>
            {
                (class, Some(rarity), metric)
            }
            _ => return Err(KeyError::Arity(HISTOGRAM_NAMESPACE)),
        };
        Ok(HistogramKey {
            class: parse_class(class)?,
            rarity: rarity.map(parse_rarity).transpose()?,
            metric: parse_metric(metric)?,
        })
    }
}

/// The key of a top-N partial: one metric of one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TopKey {
    pub class: WeaponClass,
    pub metric: Metric,
}

impl TopKey {
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        write!(
            out,
            "{TOP_NAMESPACE}|{}|{}",
            self.class.id(),
            self.metric.name()
        )
    }

    /// Parses the part after `top|`.
    fn parse(rest: &str) -> Result<TopKey, KeyError> {
        match rest.split('|').collect::<Vec<_>>()[..] {
            [class, metric] => Ok(TopKey {
                class: parse_class(class)?,
                metric: parse_metric(metric)?,
            }),
            _ => Err(KeyError::Arity(TOP_NAMESPACE)),
        }
    }
}

/// Any key the mapper writes: which kind of partial follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartialKey<'a> {
    Stats(ParsedKey<'a>),
    Histogram(HistogramKey),
    Top(TopKey),
}

impl<'a> PartialKey<'a> {
    /// Parses and validates a key (only the exact text the mapper writes is accepted).
    pub fn parse(text: &'a str) -> Result<PartialKey<'a>, KeyError> {
        let (namespace, rest) = text.split_once('|').unwrap_or((text, ""));
        match namespace {
            HISTOGRAM_NAMESPACE => HistogramKey::parse(rest).map(PartialKey::Histogram),
            TOP_NAMESPACE => TopKey::parse(rest).map(PartialKey::Top),
            _ => ParsedKey::parse(text).map(PartialKey::Stats),
        }
    }
}

fn parse_class(part: &str) -> Result<WeaponClass, KeyError> {
    WeaponClass::ALL
        .into_iter()
        .find(|c| c.id() == part)
        .ok_or_else(|| KeyError::InvalidCoordinate {
            coordinate: Coordinate::Class,
            text: truncated(part),
        })
}

fn parse_rarity(part: &str) -> Result<u8, KeyError> {
    let digits = part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    part.parse()
        .ok()
        .filter(|_| digits)
        .ok_or_else(|| KeyError::InvalidCoordinate {
            coordinate: Coordinate::Rarity,
            text: truncated(part),
        })
}

fn parse_metric(part: &str) -> Result<Metric, KeyError> {
    Metric::from_name(part).ok_or_else(|| KeyError::UnknownMetric(truncated(part)))
}

fn truncated(text: &str) -> String {
    text.chars().take(60).collect()
}

/// Why a key is not one the mapper could have written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("unknown dimension {0:?}")]
    UnknownDimension(String),
    #[error("wrong number of `|`-separated coordinates for dimension {0}")]
    Arity(&'static str),
    #[error("unknown metric {0:?}")]
    UnknownMetric(String),
    #[error("invalid {coordinate:?} coordinate {text:?}")]
    InvalidCoordinate {
        coordinate: Coordinate,
        text: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_render_as_documented_and_parse_back() {
        let cases = [
            (GroupKey::all(), "all"),
            (GroupKey::class(WeaponClass::LongSword), "class|long_sword"),
            (
                GroupKey::class_rarity(WeaponClass::Bow, 7),
                "class_rarity|bow|07",
            ),
            (
                GroupKey::class_variant(WeaponClass::Tonfa, PageVariant::Sp),
                "class_variant|tonfa|sp",
            ),
            (
                GroupKey::class_element(WeaponClass::Hammer, AttributeKind::ThunderPole),
                "class_element|hammer|thunder_pole",
            ),
            (GroupKey::element(AttributeKind::Fire), "element|fire"),
        ];
        for (key, text) in cases {
            assert_eq!(key.to_string(), text);
            let parsed = ParsedKey::parse(text).unwrap();
            assert_eq!(parsed.dimension, key.dimension);
            assert_eq!(parsed.class, key.class);
            assert_eq!(parsed.rarity, key.rarity);
            assert_eq!(parsed.variant, key.variant);
            assert_eq!(parsed.element, key.element.as_ref().map(AttributeKind::id));
        }
    }

    #[test]
    fn unknown_element_labels_are_escaped() {
        let key = GroupKey::element(AttributeKind::Other("50%|Ice\tx\\".into()));
        let text = key.to_string();
        assert_eq!(text, "element|50%25%7CIce%09x%5C");
        assert_eq!(
            ParsedKey::parse(&text).unwrap().element,
            Some("50%25%7CIce%09x%5C")
        );
        assert_eq!(
            GroupKey::element(AttributeKind::Other("Frost Zero".into())).to_string(),
            "element|Frost Zero"
        );
    }

    #[test]
    fn rarity_padding_makes_byte_order_numeric() {
        let mut keys: Vec<String> = [12, 2, 10, 1]
            .into_iter()
            .map(|r| GroupKey::class_rarity(WeaponClass::Lance, r).to_string())
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "class_rarity|lance|01",
                "class_rarity|lance|02",
                "class_rarity|lance|10",
                "class_rarity|lance|12"
            ]
        );
    }

    #[test]
    fn histogram_and_top_keys_render_and_parse_back() {
        let cases = [
            (
                PartialKey::Histogram(HistogramKey {
                    class: WeaponClass::Bow,
                    rarity: None,
                    metric: Metric::Attack,
                }),
                "histogram|class|bow|attack",
            ),
            (
                PartialKey::Histogram(HistogramKey {
                    class: WeaponClass::Bow,
                    rarity: Some(7),
                    metric: Metric::Affinity,
                }),
                "histogram|class_rarity|bow|07|affinity",
            ),
            (
                PartialKey::Top(TopKey {
                    class: WeaponClass::LongSword,
                    metric: Metric::Element,
                }),
                "top|long_sword|element",
            ),
        ];
        for (key, text) in cases {
            let mut written = Vec::new();
            match &key {
                PartialKey::Histogram(k) => k.write_to(&mut written).unwrap(),
                PartialKey::Top(k) => k.write_to(&mut written).unwrap(),
                PartialKey::Stats(_) => unreachable!(),
            }
            assert_eq!(String::from_utf8(written).unwrap(), text);
            assert_eq!(PartialKey::parse(text).unwrap(), key);
        }
        assert!(matches!(
            PartialKey::parse("class|bow").unwrap(),
            PartialKey::Stats(_)
        ));
        for bad in [
            "histogram",
            "histogram|class|bow",
            "histogram|class|bow|07|attack",
            "histogram|class_rarity|bow|attack",
            "histogram|class_rarity|bow|7|attack",
            "histogram|class|bow|slots",
            "top|bow",
            "top|bow|attack|x",
            "top|tachi|attack",
        ] {
            assert!(PartialKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn rejects_keys_the_mapper_cannot_write() {
        for bad in [
            "",
            "al",
            "all|x",
            "class",
            "class|tachi",
            "class|long_sword|x",
            "class_rarity|bow|7",
            "class_rarity|bow|+7",
            "class_variant|bow|G",
            "element|",
            "element|50%",
            "element|50%7c",
            "element|a\\N",
        ] {
            assert!(ParsedKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
