//! The report in a real browser (Debian's headless Chromium, driven over the DevTools
//! protocol): the statistics of three mirror classes, computed by the mapper and reducer,
//! rendered by `mhfz-report`, opened from a file. No console message of level error or warning,
//! no exception, no network request but the page's own; every chart holds exactly the data
//! points of its rows; the top weapons link to their site rows; a screenshot is written to
//! `target/report-screenshot.png`.

mod cdp;
#[allow(dead_code)]
#[path = "../../../streaming/tests/common/mirror.rs"]
mod mirror;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use mhfz_record::WeaponClass;
use mhfz_report::{site_link, Tables};
use mhfz_streaming::key::{Dimension, HistogramDimension};
use mhfz_streaming::metric::Metric;
use mhfz_streaming::runner::run_in_process;
use serde_json::{json, Value};

use cdp::Browser;

const CLASSES: [WeaponClass; 3] = [
    WeaponClass::LongSword,
    WeaponClass::SwitchAxeF,
    WeaponClass::Bow,
];
const SITE: &str = "https://site.invalid/buki/";

/// Mirror records of [`CLASSES`] through the mapper and reducer: the reducer output.
fn reducer_output(dir: &Path) -> PathBuf {
    let (inputs, records) = mirror::write_mirror_inputs(dir, &CLASSES, b"");
    assert!(records > 1000, "{records} records");
    let ndjson: Vec<u8> = inputs
        .iter()
        .flat_map(|input| fs::read(input).unwrap())
        .collect();
    let path = dir.join("part-00000");
    fs::write(&path, run_in_process(&ndjson).unwrap()).unwrap();
    path
}

/// (chart kind, class) → its points as (label, value, min, max), from the rows themselves.
fn expected_charts(tables: &Tables) -> BTreeSet<(String, String, Vec<[String; 4]>)> {
    let point = |label: String, value: String| [label, value, String::new(), String::new()];
    let mut charts = BTreeSet::new();
    let class_rows: Vec<_> = WeaponClass::ALL
        .into_iter()
        .filter_map(|class| {
            tables
                .statistics
                .iter()
                .find(|r| r.dimension == Dimension::Class.name() && r.class == Some(class))
        })
        .collect();
    charts.insert((
        "weapons-per-class".into(),
        "all".into(),
        class_rows
            .iter()
            .map(|r| point(r.class.unwrap().id().into(), r.records.to_string()))
            .collect(),
    ));
    for row in &class_rows {
        let class = row.class.unwrap();
        let id = class.id().to_string();
        for (kind, metric) in [
            ("attack-distribution", Metric::Attack),
            ("affinity-distribution", Metric::Affinity),
        ] {
            let mut buckets: Vec<_> = tables
                .histograms
                .iter()
                .filter(|h| {
                    h.dimension == HistogramDimension::Class
                        && h.class == class
                        && h.metric == metric
                })
                .collect();
            buckets.sort_by_key(|h| h.bucket_min);
            let points = buckets
                .iter()
                .map(|h| point(h.bucket_min.to_string(), h.records.to_string()))
                .collect();
            charts.insert((kind.into(), id.clone(), points));
        }
        let of_class = |dimension: Dimension| {
            tables
                .statistics
                .iter()
                .filter(move |r| r.dimension == dimension.name() && r.class == Some(class))
                .collect::<Vec<_>>()
        };
        let ranges = of_class(Dimension::ClassRarity)
            .iter()
            .map(|r| {
                [
                    r.rarity.unwrap().to_string(),
                    format!("{:.4}", r.attack.mean.unwrap()),
                    r.attack.min.unwrap().to_string(),
                    r.attack.max.unwrap().to_string(),
                ]
            })
            .collect();
        charts.insert(("attack-by-rarity".into(), id.clone(), ranges));
        let shares = of_class(Dimension::ClassElement)
            .iter()
            .map(|r| point(r.element.clone().unwrap(), r.records.to_string()))
            .collect();
        charts.insert(("element-shares".into(), id.clone(), shares));
        let slots = ["0", "1", "2", "3", "4+"]
            .iter()
            .zip(row.slots)
            .map(|(label, records)| point(label.to_string(), records.to_string()))
            .collect();
        charts.insert(("slots".into(), id.clone(), slots));
    }
    charts
}

const CHARTS_IN_PAGE: &str = r#"JSON.stringify([...document.querySelectorAll('figure.chart')].map(f => [
  f.dataset.chart, f.dataset.class,
  [...f.querySelectorAll('g.point')].map(g => [g.dataset.label, g.dataset.value, g.dataset.min ?? '', g.dataset.max ?? ''])]))"#;

const TOP_IN_PAGE: &str = r#"JSON.stringify([...document.querySelectorAll('table.top')].map(t => [
  t.dataset.class, t.dataset.metric,
  [...t.querySelectorAll('tbody tr[data-weapon-id]')].map(r => [r.dataset.weaponId, r.dataset.value, r.querySelector('a')?.href ?? ''])]))"#;

#[test]
fn the_report_opens_in_chromium_with_every_rows_points_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let part = reducer_output(dir.path());
    let html = dir.path().join("report.html");
    let status = Command::new(env!("CARGO_BIN_EXE_mhfz-report"))
        .arg(&part)
        .args(["--site-url", SITE, "--out"])
        .arg(&html)
        .status()
        .unwrap();
    assert!(status.success());
    let tables = Tables::read_reducer_output(&[part]).unwrap();

    let mut browser = Browser::start(&dir.path().join("profile"));
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
    );
    let page_url = format!("file://{}", html.display());
    browser.call("Page.navigate", json!({ "url": page_url }));
    browser.wait_for("Page.loadEventFired");

    // Charts: exactly the rows' points, chart by chart.
    let in_page: Vec<(String, String, Vec<[String; 4]>)> =
        serde_json::from_str(browser.evaluate(CHARTS_IN_PAGE).as_str().unwrap()).unwrap();
    assert_eq!(
        in_page.len(),
        1 + 5 * CLASSES.len(),
        "one overview, five charts per class"
    );
    // Points compared as sets: the page orders some charts by value.
    let canonical = |charts: Vec<(String, String, Vec<[String; 4]>)>| -> BTreeSet<_> {
        charts
            .into_iter()
            .map(|(kind, class, points)| (kind, class, BTreeSet::from_iter(points)))
            .collect()
    };
    assert_eq!(
        canonical(in_page),
        canonical(expected_charts(&tables).into_iter().collect())
    );

    // Top weapons: every rank in order, each linked to its row on the site.
    let tops: Vec<(String, String, Vec<[String; 3]>)> =
        serde_json::from_str(browser.evaluate(TOP_IN_PAGE).as_str().unwrap()).unwrap();
    assert_eq!(tops.len(), 3 * CLASSES.len());
    for (class, metric, rows) in &tops {
        let mut expected: Vec<_> = tables
            .top
            .iter()
            .filter(|t| t.class.id() == class && t.metric.name() == metric)
            .collect();
        expected.sort_by_key(|t| t.rank);
        let expected: Vec<[String; 3]> = expected
            .iter()
            .map(|t| {
                [
                    t.weapon_id.clone(),
                    t.value.to_string(),
                    site_link(SITE, &t.weapon_id).unwrap(),
                ]
            })
            .collect();
        assert!(
            !expected.is_empty() || metric == "element",
            "{class} {metric}"
        );
        assert_eq!(rows, &expected, "top {metric} of {class}");
    }
    let state = browser.evaluate("document.querySelector('#changes').dataset.state");
    assert_eq!(state, json!("not_read"));

    let screenshot = browser.call("Page.captureScreenshot", json!({ "format": "png" }));
    let png = base64::engine::general_purpose::STANDARD
        .decode(screenshot["data"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let screenshot_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report-screenshot.png");
    fs::write(&screenshot_path, &png).unwrap();
    eprintln!("screenshot: {}", screenshot_path.display());

    // Nothing went wrong, nothing was fetched.
    let problems: Vec<&Value> = browser
        .events
        .iter()
        .filter(|e| match e["method"].as_str().unwrap_or_default() {
            "Runtime.exceptionThrown" => true,
            "Runtime.consoleAPICalled" => {
                matches!(
                    e["params"]["type"].as_str(),
                    Some("error" | "warning" | "assert")
                )
            }
            "Log.entryAdded" => {
                matches!(
                    e["params"]["entry"]["level"].as_str(),
                    Some("error" | "warning")
                )
            }
            _ => false,
        })
        .collect();
    assert!(
        problems.is_empty(),
        "the page reported problems: {problems:#?}"
    );
    let requests: Vec<&str> = browser
        .events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .map(|e| e["params"]["request"]["url"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        requests,
        [page_url.as_str()],
        "requests besides the page itself"
    );
}
