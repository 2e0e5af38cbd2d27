//! `mhfz-exporter` against the stack's PostgreSQL: the scraper's JSON, exact incremental
//! exports while writers commit concurrently, the least-privilege role, outputs and errors.

mod common;
mod exporter_db;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use exporter_db::store_support::{count, record, records_of_every_class, scraped};
use exporter_db::Fixture;
use mhfz_record::{WeaponClass, WeaponRecord};
use mhfz_store::{write_batch, ExportScope};
use mhfz_streaming::export::{run_export, Destination, ExportOptions};

/// Lines sorted, for comparing record sets whatever their order.
fn sorted_lines(ndjson: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(ndjson).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the last line is complete"
    );
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// A record whose strings need JSON escapes and whose numbers are large: JSONB must give
/// them back unchanged.
fn awkward_record() -> WeaponRecord {
    let mut awkward = record(WeaponClass::LongSword, 901);
    awkward.name = "Tachi \"Quoted\" \\ back\\slash \u{7f} 斬れ味 ✓ 𝄞".into();
    awkward.description = "line one\nline two\ttabbed\r\n\u{1} control".into();
    awkward.price = Some(i64::MAX as u64);
    awkward.upgrade_price = Some(9_007_199_254_740_993); // 2^53 + 1: not exact as a double
    awkward.affinity = -100;
    awkward.price_note = Some(String::new());
    awkward
}

fn local_runner(input: &Path) -> Vec<u8> {
    let output = Command::new(common::RUNNER)
        .arg(input)
        .args(["--strict", "--output", "-"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "mhfz-local-runner: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.stdout.is_empty(), "no statistics rows");
    output.stdout
}

#[test]
fn exports_the_scrapers_json_which_the_mapper_reads_the_same() {
    let mut fixture = Fixture::new();
    let mut records = records_of_every_class(3);
    records.extend(common::fixtures::fixture_records());
    records.push(awkward_record());
    fixture.write(&records);

    let exported = fixture.dir.path().join("exported.ndjson");
    let (stdout, stderr) = fixture.export(&["--out", exported.to_str().unwrap()]);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(&format!("{} records", records.len())),
        "{stderr}"
    );
    let exported_bytes = std::fs::read(&exported).unwrap();

    // Byte for byte the lines mhfz-scraper writes for the same records.
    let scraped_ndjson = common::fixtures::to_ndjson(&records);
    assert_eq!(
        sorted_lines(&exported_bytes),
        sorted_lines(scraped_ndjson.as_bytes())
    );
    // In class order, then weapon-id order.
    let keys: Vec<(WeaponClass, String)> = exported_bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            let r: WeaponRecord = serde_json::from_slice(line).unwrap();
            (r.class, r.weapon_id.to_string())
        })
        .collect();
    let mut ordered = keys.clone();
    ordered.sort();
    assert_eq!(keys, ordered);

    // And the statistics computed from either are identical.
    let scraped_file = fixture.dir.path().join("scraped.ndjson");
    std::fs::write(&scraped_file, &scraped_ndjson).unwrap();
    assert_eq!(local_runner(&exported), local_runner(&scraped_file));
}

#[test]
fn exports_only_what_changed_and_full_exports_everything() {
    let mut fixture = Fixture::new();
    let mut records = records_of_every_class(2);
    fixture.write(&records);

    let (first, stderr) = fixture.export(&[]);
    assert_eq!(sorted_lines(&first).len(), records.len());
    assert!(stderr.contains("first export"), "{stderr}");

    let (second, stderr) = fixture.export(&[]);
    assert!(
        second.is_empty(),
        "nothing changed: {}",
        String::from_utf8_lossy(&second)
    );
    assert!(
        stderr.contains("run 2: 0 records changed since run 1"),
        "{stderr}"
    );

    records[3].attack += 5;
    let added = record(WeaponClass::MagnetSpike, 50);
    // Written again unchanged: not exported again.
    fixture.write(&records);
    fixture.write(std::slice::from_ref(&added));
    let (third, _) = fixture.export(&["-o", "-"]);
    assert_eq!(
        sorted_lines(&third),
        sorted_lines(common::fixtures::to_ndjson(&[records[3].clone(), added]).as_bytes())
    );

    let (full, stderr) = fixture.export(&["--full", "--quiet"]);
    assert_eq!(sorted_lines(&full).len(), records.len() + 1);
    assert!(stderr.is_empty(), "--quiet: {stderr}");
    let (after_full, _) = fixture.export(&[]);
    assert!(after_full.is_empty());

    let destinations: Vec<String> = fixture
        .admin
        .query(
            "SELECT destination FROM mhfz.export_runs ORDER BY run_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(destinations, ["stdout"; 5]);
}

/// Writers commit batches (new weapons, changed weapons, unchanged rewrites) from several
/// threads while exports run one after another. Every weapon's versions must come out in
/// order, none twice, and the last one exported must be the one stored.
#[test]
fn exports_during_concurrent_writes_take_every_version_once() {
    const WRITERS: usize = 3;
    const EXPORTS_DURING_WRITES: usize = 6;
    let fixture = Fixture::new();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let settings = fixture.db.admin_settings();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut client = mhfz_store::connect(&settings).unwrap();
                // weapon id → latest attack written (the version).
                let mut latest: BTreeMap<String, WeaponRecord> = BTreeMap::new();
                let mut round = 0usize;
                while !stop.load(Ordering::Relaxed) || round < 3 {
                    let mut batch = Vec::new();
                    for j in 0..15 {
                        let n = 100_000 * (writer + 1) + round * 15 + j;
                        batch.push(record(WeaponClass::ALL[n % 14], n));
                    }
                    // Change a few earlier weapons, rewrite a few unchanged.
                    let earlier: Vec<WeaponRecord> = latest.values().cloned().collect();
                    for (k, previous) in earlier.iter().enumerate().skip(round % 4).step_by(9) {
                        let mut next = previous.clone();
                        if k % 2 == 0 {
                            next.attack += 1;
                        }
                        batch.push(next);
                    }
                    write_batch(&mut client, &scraped(&batch, "run-concurrent")).unwrap();
                    for r in batch {
                        latest.insert(r.weapon_id.to_string(), r);
                    }
                    round += 1;
                    std::thread::sleep(Duration::from_millis(3));
                }
                latest
            })
        })
        .collect();

    let mut client = fixture.db.admin();
    let mut export_files = Vec::new();
    let mut export = |i: usize| {
        let path = fixture.dir.path().join(format!("export-{i}.ndjson"));
        let report = run_export(
            &mut client,
            &ExportOptions {
                scope: ExportScope::Changed,
                destination: Destination::File(path.clone()),
                hdfs: None,
                progress: false,
            },
        )
        .unwrap();
        export_files.push((path, report.run.rows_exported));
    };
    for i in 0..EXPORTS_DURING_WRITES {
        export(i);
        std::thread::sleep(Duration::from_millis(15));
    }
    stop.store(true, Ordering::Relaxed);
    let mut stored: BTreeMap<String, WeaponRecord> = BTreeMap::new();
    for writer in writers {
        stored.extend(writer.join().unwrap());
    }
    export(EXPORTS_DURING_WRITES);

    // weapon id → the attack values exported, export by export.
    let mut exported: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut rows_during_writes = 0;
    for (i, (path, rows)) in export_files.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let lines = sorted_lines(&bytes);
        assert_eq!(lines.len() as u64, *rows, "{}", path.display());
        if i < EXPORTS_DURING_WRITES {
            rows_during_writes += rows;
        }
        for line in lines {
            let record: WeaponRecord = serde_json::from_str(&line).unwrap();
            exported
                .entry(record.weapon_id.to_string())
                .or_default()
                .push(record.attack);
        }
    }
    assert!(rows_during_writes > 0, "no export overlapped the writes");
    assert!(
        exported.values().any(|versions| versions.len() > 1),
        "no weapon changed between two exports"
    );
    assert_eq!(
        exported.keys().collect::<Vec<_>>(),
        stored.keys().collect::<Vec<_>>(),
        "every weapon written is exported"
    );
    for (id, versions) in &exported {
        assert!(
            versions.windows(2).all(|pair| pair[0] < pair[1]),
            "{id}: versions exported out of order or twice: {versions:?}"
        );
        assert_eq!(
            *versions.last().unwrap(),
            stored[id].attack,
            "{id}: the last export has the stored version"
        );
    }
    let export_rows = count(
        &mut client,
        "SELECT sum(rows_exported)::bigint FROM mhfz.export_runs",
    );
    assert_eq!(
        export_rows as usize,
        exported.values().map(Vec::len).sum::<usize>()
    );
}

#[test]
fn a_failed_export_records_nothing_and_leaves_no_file() {
    let mut fixture = Fixture::new();
    let records = records_of_every_class(1);
    fixture.write(&records);

    // A stored record the exporter cannot read: the error names the table and the row.
    fixture
        .admin
        .batch_execute(&format!(
            "UPDATE mhfz.hammer SET record = '{{\"weapon_id\": 1}}' WHERE weapon_id = '{}'",
            records[4].weapon_id
        ))
        .unwrap();
    let out = fixture.dir.path().join("out.ndjson");
    let output = fixture
        .exporter(&["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("mhfz.hammer row {}", records[4].weapon_id))
            && stderr.contains("not a weapon record"),
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(fixture.dir.path()).unwrap().count(),
        1,
        "only the password file"
    );
    assert_eq!(fixture.runs(), 0);

    // An output in a missing directory: named in the error, nothing recorded.
    fixture
        .admin
        .batch_execute(&format!(
            "UPDATE mhfz.hammer SET record = '{}' WHERE weapon_id = '{}'",
            serde_json::to_string(&records[4])
                .unwrap()
                .replace('\'', "''"),
            records[4].weapon_id
        ))
        .unwrap();
    let missing = fixture.dir.path().join("no-such-dir").join("out.ndjson");
    let output = fixture
        .exporter(&["--out", missing.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");
    assert_eq!(fixture.runs(), 0);

    // The next export takes every row.
    let (stdout, _) = fixture.export(&[]);
    assert_eq!(sorted_lines(&stdout).len(), records.len());
}

#[test]
fn a_closed_pipe_ends_quietly_and_records_nothing() {
    let mut fixture = Fixture::new();
    // About 2 MB: far more than a pipe holds.
    fixture.write(&records_of_every_class(150));
    let mut child = fixture
        .exporter(&[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output: Output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert_eq!(fixture.runs(), 0, "a cut-short export is not recorded");
}

#[test]
fn connection_settings_come_from_the_environment_only() {
    let fixture = Fixture::new();
    let output = fixture
        .exporter(&[])
        .env_remove("MHFZ_PG_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("MHFZ_PG_URL is not set"), "{stderr}");

    let wrong = fixture.dir.path().join("wrong-password");
    std::fs::write(&wrong, "not-the-password-xyzzy\n").unwrap();
    let output = fixture
        .exporter(&[])
        .env("MHFZ_PG_PASSWORD_FILE", &wrong)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert!(!stderr.contains("xyzzy"), "the password is shown: {stderr}");

    let with_password = fixture.url.replacen("@", ":secret@", 1);
    let output = fixture
        .exporter(&[])
        .env("MHFZ_PG_URL", &with_password)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("must not contain a password"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
}

/// A path of its own on the stack's HDFS, and the client; fails clearly outside the stack.
fn hdfs_scratch(test: &str) -> (mhfz_streaming::webhdfs::WebHdfs, String) {
    let hdfs = mhfz_streaming::webhdfs::WebHdfs::from_env().unwrap_or_else(|error| {
        panic!("{error}: run inside `scripts/stack run -- cargo test` with the hadoop service")
    });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = format!("/mhfz-tests/exporter-{test}-{}-{nanos}", std::process::id());
    (hdfs, base)
}

#[test]
fn exports_to_hdfs_atomically_and_records_nothing_when_the_upload_fails() {
    use std::io::Write;

    let (hdfs, base) = hdfs_scratch("hdfs");
    let mut fixture = Fixture::new();
    fixture.write(&records_of_every_class(2));
    let target = format!("{base}/in/weapons.ndjson");
    let with_webhdfs = |fixture: &Fixture, args: &[&str]| {
        let mut command = fixture.exporter(args);
        for name in ["MHFZ_WEBHDFS_URL", "MHFZ_HDFS_USER"] {
            command.env(name, std::env::var(name).unwrap());
        }
        command.output().unwrap()
    };

    // The parent directories are created; the file is the export, byte for byte.
    let output = with_webhdfs(
        &fixture,
        &["--full", "-q", "-o", &format!("hdfs://{target}")],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (stdout, _) = fixture.export(&["--full", "-q"]);
    assert!(!stdout.is_empty());
    assert!(
        hdfs.read(&target).unwrap() == stdout,
        "HDFS file != stdout export"
    );
    let names: Vec<String> = hdfs
        .list(&format!("{base}/in"))
        .unwrap()
        .into_iter()
        .map(|status| status.path_suffix)
        .collect();
    assert_eq!(names, ["weapons.ndjson"], "no temporary file left");
    let destination: String = fixture
        .admin
        .query_one(
            "SELECT destination FROM mhfz.export_runs ORDER BY run_id LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(destination, format!("hdfs://{target}"));
    assert_eq!(fixture.runs(), 2);

    // A file cannot be a directory: the upload fails, the export is not recorded, and the
    // existing file is untouched.
    let inside = format!("hdfs://{target}/inside.ndjson");
    let output = with_webhdfs(&fixture, &["-q", "-o", &inside]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains(&inside), "{stderr}");
    assert_eq!(fixture.runs(), 2);
    assert!(hdfs.read(&target).unwrap() == stdout);

    // An export abandoned midway (its sink dropped uncommitted) leaves nothing behind.
    let abandoned = format!("{base}/abandoned/weapons.ndjson");
    let destination = Destination::Hdfs(abandoned.clone());
    let mut sink = destination.open(Some(&hdfs)).unwrap();
    sink.write_all(&stdout).unwrap();
    sink.flush().unwrap();
    drop(sink);
    assert_eq!(hdfs.status(&abandoned).unwrap(), None);
    let left: Vec<String> = hdfs
        .list(&format!("{base}/abandoned"))
        .map(|entries| entries.into_iter().map(|s| s.path_suffix).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");

    // Without the WebHDFS variables: refused before connecting, naming what is missing.
    let output = fixture
        .exporter(&["-o", &format!("hdfs://{target}")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("MHFZ_WEBHDFS_URL"), "{stderr}");

    hdfs.delete(&base, true).unwrap();
}
