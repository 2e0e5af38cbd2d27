//! The site mirror as test input: NDJSON weapon records parsed from its pages.

use std::fs;
use std::path::{Path, PathBuf};

use mhfz_ingest::parse::{parse_page, PageRef};
use mhfz_record::{PageVariant, WeaponClass};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The mirror's `buki/` directory: `MHFZ_MIRROR`, default `<repo>/../shared/ferias-site/buki`.
/// Fails when it is missing.
pub fn mirror_dir() -> PathBuf {
    let dir = std::env::var_os("MHFZ_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/ferias-site/buki"));
    assert!(
        dir.join("buki.htm").is_file(),
        "the site mirror is missing: no buki.htm in {} (set MHFZ_MIRROR to the mirror's buki/ directory)",
        dir.display()
    );
    dir
}

/// One NDJSON input per class in `dir`, from the class's English pages in the mirror;
/// `bad_lines` go in the middle of the first file (after its first page). Returns the files
/// and the number of records written (bad lines not counted).
pub fn write_mirror_inputs(
    dir: &Path,
    classes: &[WeaponClass],
    bad_lines: &[u8],
) -> (Vec<PathBuf>, u64) {
    let mirror = mirror_dir();
    let mut records = 0;
    let inputs = classes
        .iter()
        .enumerate()
        .map(|(index, &class)| {
            let mut ndjson = Vec::new();
            for variant in PageVariant::ALL {
                let file_name = format!("{}{}.htm", class.page_stem(), variant.page_suffix());
                let Ok(html) = fs::read(mirror.join(&file_name)) else {
                    continue;
                };
                let page = PageRef {
                    class,
                    variant,
                    file_name,
                };
                let parsed =
                    parse_page(&page, &html).unwrap_or_else(|e| panic!("{}: {e}", page.file_name));
                for record in &parsed.records {
                    serde_json::to_writer(&mut ndjson, record).unwrap();
                    ndjson.push(b'\n');
                    records += 1;
                }
                if index == 0 && variant == PageVariant::ALL[0] {
                    ndjson.extend_from_slice(bad_lines);
                }
            }
            assert!(
                ndjson.len() > 100_000,
                "few records for {class:?} in the mirror"
            );
            let path = dir.join(format!("{}.ndjson", class.id()));
            fs::write(&path, ndjson).unwrap();
            path
        })
        .collect();
    (inputs, records)
}
