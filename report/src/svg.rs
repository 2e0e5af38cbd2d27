//! The charts, drawn as inline SVG strings (no script, no font, nothing fetched).
//!
//! Every data point is one `<g class="point">` carrying its row's values as attributes
//! (`data-label`, `data-value`, and `data-min`/`data-max` on ranges): what the browser test
//! reads back. Labels are escaped here; the strings are inserted into the page unescaped.

use std::fmt::Write;

const WIDTH: f64 = 560.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;
const PLOT_HEIGHT: f64 = 160.0;
/// At most this many x-axis labels, so that they never overlap.
const MAX_X_LABELS: usize = 10;

/// One bar of a bar chart at slot `slot` (0-based, of `slots`).
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub slot: usize,
    pub label: String,
    pub value: u64,
}

/// One rarity's range: min to max with the mean marked.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub label: String,
    pub min: i64,
    pub max: i64,
    /// The mean as the table prints it (four decimals).
    pub mean_text: String,
    pub mean: f64,
}

/// One horizontal bar of a share chart: `records` of `total`.
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    pub label: String,
    pub records: u64,
    pub total: u64,
}

/// A vertical bar chart over `slots` positions, labelled by `slot_label`; slots without a bar
/// are gaps (empty histogram buckets are not rows).
pub fn bar_chart(bars: &[Bar], slots: usize, slot_label: impl Fn(usize) -> String) -> String {
    let slots = slots.max(1);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let plot_width = WIDTH - LEFT - RIGHT;
    let slot_width = plot_width / slots as f64;
    let mut svg = open(TOP + PLOT_HEIGHT + BOTTOM);
    y_axis(&mut svg, 0.0, max, |v| format!("{v:.0}"));
    for bar in bars {
        let height = bar.value as f64 / max * PLOT_HEIGHT;
        let x = LEFT + bar.slot as f64 * slot_width + slot_width * 0.1;
        let y = TOP + PLOT_HEIGHT - height;
        let label = escape(&bar.label);
        let _ = write!(
            svg,
            r#"<g class="point" data-label="{label}" data-value="{value}"><title>{label}: {value}</title><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{height:.1}"/></g>"#,
            value = bar.value,
            w = slot_width * 0.8,
        );
    }
    let every = slots.div_ceil(MAX_X_LABELS);
    for slot in (0..slots).step_by(every) {
        let x = LEFT + (slot as f64 + 0.5) * slot_width;
        x_label(&mut svg, x, &slot_label(slot));
    }
    svg.push_str("</svg>");
    svg
}

/// Ranges side by side: a line from min to max and a dot at the mean.
pub fn range_chart(ranges: &[Range]) -> String {
    let low = ranges.iter().map(|r| r.min).min().unwrap_or(0) as f64;
    let high = ranges.iter().map(|r| r.max).max().unwrap_or(0) as f64;
    let (low, high) = if high > low {
        (low, high)
    } else {
        (low - 1.0, high + 1.0)
    };
    let y_of = |value: f64| TOP + PLOT_HEIGHT - (value - low) / (high - low) * PLOT_HEIGHT;
    let slot_width = (WIDTH - LEFT - RIGHT) / ranges.len().max(1) as f64;
    let mut svg = open(TOP + PLOT_HEIGHT + BOTTOM);
    y_axis(&mut svg, low, high, |v| format!("{v:.0}"));
    for (index, range) in ranges.iter().enumerate() {
        let x = LEFT + (index as f64 + 0.5) * slot_width;
        let label = escape(&range.label);
        let _ = write!(
            svg,
            r#"<g class="point" data-label="{label}" data-value="{mean}" data-min="{min}" data-max="{max}"><title>rarity {label}: {min} to {max}, mean {mean}</title><line class="range" x1="{x:.1}" x2="{x:.1}" y1="{y_min:.1}" y2="{y_max:.1}"/><circle cx="{x:.1}" cy="{y_mean:.1}" r="4"/></g>"#,
            mean = range.mean_text,
            min = range.min,
            max = range.max,
            y_min = y_of(range.min as f64),
            y_max = y_of(range.max as f64),
            y_mean = y_of(range.mean),
        );
        x_label(&mut svg, x, &range.label);
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per share, with the percentage written beside each.
pub fn share_chart(shares: &[Share]) -> String {
    const ROW: f64 = 22.0;
    const LABEL_WIDTH: f64 = 120.0;
    const TEXT_WIDTH: f64 = 140.0;
    let bar_space = WIDTH - LABEL_WIDTH - TEXT_WIDTH;
    let mut svg = open(TOP * 2.0 + ROW * shares.len() as f64);
    for (index, share) in shares.iter().enumerate() {
        let y = TOP + index as f64 * ROW;
        let fraction = share.records as f64 / share.total.max(1) as f64;
        let label = escape(&share.label);
        let _ = write!(
            svg,
            r#"<g class="point" data-label="{label}" data-value="{records}"><title>{label}: {records} of {total}</title><text class="label" x="{lx:.1}" y="{ty:.1}" text-anchor="end">{label}</text><rect x="{LABEL_WIDTH:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}"/><text x="{tx:.1}" y="{ty:.1}">{percent:.1}% ({records})</text></g>"#,
            records = share.records,
            total = share.total,
            lx = LABEL_WIDTH - 6.0,
            ty = y + ROW * 0.65,
            w = (fraction * bar_space).max(1.0),
            h = ROW * 0.75,
            tx = LABEL_WIDTH + fraction * bar_space + 6.0,
            percent = fraction * 100.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open(height: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0}" width="{WIDTH}" height="{height:.0}" role="img">"#
    )
}

/// The y axis from `low` to `high` with three ticks.
fn y_axis(svg: &mut String, low: f64, high: f64, format: impl Fn(f64) -> String) {
    let bottom = TOP + PLOT_HEIGHT;
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/><line class="axis" x1="{LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}"/>"#,
        right = WIDTH - RIGHT,
    );
    for step in 0..=2 {
        let value = low + (high - low) * step as f64 / 2.0;
        let y = bottom - PLOT_HEIGHT * step as f64 / 2.0;
        let _ = write!(
            svg,
            r#"<text class="tick" x="{x}" y="{y:.1}" text-anchor="end" dominant-baseline="middle">{}</text>"#,
            escape(&format(value)),
            x = LEFT - 6.0,
        );
    }
}

fn x_label(svg: &mut String, x: f64, label: &str) {
    let _ = write!(
        svg,
        r#"<text class="tick" x="{x:.1}" y="{y}" text-anchor="middle">{}</text>"#,
        escape(label),
        y = TOP + PLOT_HEIGHT + 18.0,
    );
}

/// Text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_per_bar_with_its_value_and_escaped_labels() {
        let bars = [
            Bar {
                slot: 0,
                label: "<0".into(),
                value: 3,
            },
            Bar {
                slot: 2,
                label: "200".into(),
                value: 7,
            },
        ];
        let svg = bar_chart(&bars, 3, |slot| (slot * 100).to_string());
        assert_eq!(svg.matches(r#"<g class="point""#).count(), 2);
        assert!(
            svg.contains(r#"data-label="&lt;0" data-value="3""#),
            "{svg}"
        );
        assert!(svg.contains(r#"data-label="200" data-value="7""#));
        assert!(!svg.contains("<0"));
        // The tallest bar fills the plot.
        assert!(svg.contains(&format!(r#"height="{PLOT_HEIGHT:.1}""#)));
    }

    #[test]
    fn ranges_and_shares_carry_their_values() {
        let svg = range_chart(&[Range {
            label: "7".into(),
            min: 100,
            max: 300,
            mean_text: "200.0000".into(),
            mean: 200.0,
        }]);
        assert!(
            svg.contains(r#"data-label="7" data-value="200.0000" data-min="100" data-max="300""#)
        );
        let svg = share_chart(&[Share {
            label: "fire".into(),
            records: 1,
            total: 4,
        }]);
        assert!(svg.contains(r#"data-label="fire" data-value="1""#));
        assert!(svg.contains("25.0% (1)"));
    }

    #[test]
    fn empty_charts_are_still_valid_svg() {
        for svg in [
            bar_chart(&[], 0, |_| String::new()),
            range_chart(&[]),
            share_chart(&[]),
        ] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }
}
