//! The parser on pages that are not weapon pages, and on broken input: it returns an error or
//! rejects, and never panics.

use mhfz_ingest::parse::{parse_page, PageError, PageRef};
use mhfz_record::{PageVariant, WeaponClass};

const LONG_SWORD_G: &[u8] = include_bytes!("fixtures/long_sword_g.html");

fn page(file_name: &str) -> PageRef {
    PageRef {
        class: WeaponClass::LongSword,
        variant: PageVariant::G,
        file_name: file_name.into(),
    }
}

#[test]
fn tower_page_is_reported_as_such() {
    let err = parse_page(&page("tachi_t.htm"), include_bytes!("fixtures/tower.html")).unwrap_err();
    assert_eq!(
        err,
        PageError::TowerPage {
            page: "tachi_t.htm".into()
        }
    );
}

#[test]
fn pages_without_a_weapon_table() {
    for html in [
        &b""[..],
        b"<html><body><p>Not found</p></body></html>",
        b"<table><tr><td>1</td><td>2</td></tr></table>",
        b"\xff\xfe\x00garbage<<<>>>",
    ] {
        assert_eq!(
            parse_page(&page("tachi_g.htm"), html).unwrap_err(),
            PageError::NoWeaponTable {
                page: "tachi_g.htm".into()
            },
            "{html:?}"
        );
    }
}

#[test]
fn unknown_and_incomplete_headers_are_page_errors() {
    let unknown =
        b"<table><tr><th>Name</th><th>Rarity</th><th>Attack</th><th>Colour</th></tr></table>";
    assert_eq!(
        parse_page(&page("x.htm"), unknown).unwrap_err(),
        PageError::UnknownHeader {
            page: "x.htm".into(),
            header: "Colour".into()
        }
    );
    let missing = b"<table><tr><th>Name</th><th>Rarity</th></tr></table>";
    assert!(matches!(
        parse_page(&page("x.htm"), missing).unwrap_err(),
        PageError::MissingColumn { .. }
    ));
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let html = String::from_utf8_lossy(LONG_SWORD_G)
        .replace("Test Blade<b>Lv1</b>", "Test\u{1}Blade<b>Lv1</b>")
        .into_bytes();
    let position = html.windows(1).position(|w| w == [1]).expect("marker");
    let mut broken = html.clone();
    broken.splice(position..position + 1, [0xff, 0xc3]);
    let parsed = parse_page(&page("tachi_g.htm"), &broken).unwrap();
    assert_eq!(parsed.records.len(), 5);
    assert_eq!(parsed.records[0].name, "Test\u{fffd}\u{fffd}Blade");
}

#[test]
fn truncated_pages_never_panic() {
    // Cut the page at every byte (on and off UTF-8 boundaries). A prefix that ends inside the
    // header is a page error; once the header is complete, the rows that are there are parsed
    // or rejected.
    let full = parse_page(&page("tachi_g.htm"), LONG_SWORD_G).unwrap();
    let total_rows = full.records.len() + full.rejects.len();
    let header_end = find(LONG_SWORD_G, b"</thead>") + b"</thead>".len();
    for end in 0..LONG_SWORD_G.len() {
        let result = parse_page(&page("tachi_g.htm"), &LONG_SWORD_G[..end]);
        if end >= header_end {
            let parsed = result.unwrap_or_else(|e| panic!("prefix of {end} bytes: {e}"));
            assert!(parsed.records.len() + parsed.rejects.len() <= total_rows);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in fixture")
}

#[test]
fn truncated_mid_row_keeps_the_complete_rows() {
    let text = std::str::from_utf8(LONG_SWORD_G).unwrap();
    let cut = text.find("<td id=\"l0B00\">").expect("fourth row");
    let parsed = parse_page(&page("tachi_g.htm"), &LONG_SWORD_G[..cut + 30]).unwrap();
    assert_eq!(parsed.records.len(), 3);
    // The cut row is present but broken: it is rejected with its raw html, not lost.
    assert_eq!(parsed.rejects.len(), 1);
    assert_eq!(parsed.rejects[0].row_number, 4);
    assert!(
        parsed.rejects[0].error.contains("cells"),
        "{}",
        parsed.rejects[0].error
    );
}

#[test]
fn rows_with_missing_cells_or_ids_are_rejected() {
    let html = br#"<table><tr><th>Name</th><th>Rarity</th><th>Attack</th></tr>
        <tr><td id="l1">Good</td><td>1</td><td>100 0%</td></tr>
        <tr><td>No id</td><td>1</td><td>100 0%</td></tr>
        <tr><td id="l3">Short</td><td>1</td></tr>
        <tr><td id="l4">Bad attack</td><td>1</td><td>lots</td></tr>
        <tr><td id="l5"></td><td>1</td><td>100 0%</td></tr>
        <tr><td id="l6">Spanned</td><td colspan="2">1</td></tr></table>"#;
    let parsed = parse_page(&page("x.htm"), html).unwrap();
    assert_eq!(parsed.records.len(), 1);
    let errors: Vec<(usize, &str)> = parsed
        .rejects
        .iter()
        .map(|r| (r.row_number, r.error.as_str()))
        .collect();
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert!(errors[0].1.contains("no id"), "{errors:?}");
    assert!(errors[1].1.contains("2 cells"), "{errors:?}");
    assert!(errors[2].1.starts_with("Attack:"), "{errors:?}");
    assert!(errors[3].1.contains("empty name"), "{errors:?}");
    assert!(errors[4].1.contains("spanning"), "{errors:?}");
    assert_eq!(
        errors.iter().map(|e| e.0).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6]
    );
}

#[test]
fn ten_megabyte_page() {
    let text = std::str::from_utf8(LONG_SWORD_G).unwrap();
    let start = text.find("<tr><td id=\"l0A01\">").unwrap();
    let end = text[start..].find("</tr>").unwrap() + start + "</tr>".len();
    let row = &text[start..end];
    let mut big = String::with_capacity(10_100_000);
    big.push_str(&text[..start]);
    let mut copies = 0;
    while big.len() < 10_000_000 {
        big.push_str(&row.replace("l0A01", &format!("lF{copies:X}")));
        copies += 1;
    }
    big.push_str(&text[start..]);
    let parsed = parse_page(&page("tachi_g.htm"), big.as_bytes()).unwrap();
    assert_eq!(parsed.records.len(), copies + 5);
    assert_eq!(parsed.rejects.len(), 1);
}

#[test]
fn deeply_nested_markup_does_not_overflow_the_stack() {
    let mut html = String::from(
        "<table><tr><th>Name</th><th>Rarity</th><th>Attack</th></tr><tr><td id=\"l1\">Deep",
    );
    html.push_str(&"<span>".repeat(100_000));
    html.push_str("</td><td>1</td><td>100 0%</td></tr></table>");
    // html5ever limits nesting of formatting elements; whatever the tree, parsing must return.
    let _ = parse_page(&page("x.htm"), html.as_bytes());
}

#[test]
fn a_row_repeating_both_id_and_name_is_rejected() {
    let html = br#"<table><tr><th>Name</th><th>Rarity</th><th>Attack</th></tr>
        <tr><td id="l1">Same</td><td>1</td><td>100 0%</td></tr>
        <tr><td id="l2">Other</td><td>1</td><td>100 0%</td></tr>
        <tr><td id="l1">Same</td><td>2</td><td>200 0%</td></tr></table>"#;
    let parsed = parse_page(&page("x.htm"), html).unwrap();
    let ids: Vec<&str> = parsed
        .records
        .iter()
        .map(|r| r.weapon_id.as_str())
        .collect();
    assert_eq!(ids, ["long_sword:g:l1:Same", "long_sword:g:l2"]);
    assert_eq!(parsed.rejects.len(), 1);
    assert_eq!(parsed.rejects[0].row_number, 3);
    assert!(
        parsed.rejects[0].error.contains("already used"),
        "{}",
        parsed.rejects[0].error
    );
}
