//! The WebHDFS client against the stack's real HDFS (`scripts/stack run` with hadoop): every
//! operation, redirects to the DataNode, atomic placement, and the NameNode's errors.

use std::io::Read;

use mhfz_streaming::webhdfs::{FileKind, WebHdfs, WebHdfsError};

fn client() -> WebHdfs {
    WebHdfs::from_env().unwrap_or_else(|e| {
        panic!("{e}: run the tests inside `scripts/stack run -- cargo test` (hadoop service)")
    })
}

/// A directory of its own for each test, removed first if a previous run left it.
fn scratch(client: &WebHdfs, name: &str) -> String {
    let dir = format!("/mhfz-tests/webhdfs-{name}-{}", std::process::id());
    client.delete(&dir, true).unwrap();
    client.mkdirs(&dir).unwrap();
    dir
}

#[test]
fn files_are_created_read_listed_renamed_and_deleted() {
    let hdfs = client();
    let dir = scratch(&hdfs, "ops");
    // Several 64 KiB buffers and a name that needs percent-encoding.
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let file = format!("{dir}/run_id=r 1/part-00000");
    hdfs.create(&file, content.as_slice(), false).unwrap();
    assert_eq!(hdfs.read(&file).unwrap(), content);
    let mut streamed = Vec::new();
    hdfs.open(&file)
        .unwrap()
        .read_to_end(&mut streamed)
        .unwrap();
    assert_eq!(streamed, content);

    let status = hdfs.status(&file).unwrap().expect("the file exists");
    assert_eq!((status.kind, status.length), (FileKind::File, 300_000));
    assert_eq!(status.owner, std::env::var("MHFZ_HDFS_USER").unwrap());
    assert!(hdfs.status(&format!("{dir}/missing")).unwrap().is_none());

    // Creating over an existing file needs overwrite.
    let error = hdfs.create(&file, &b"x"[..], false).unwrap_err();
    assert!(
        matches!(&error, WebHdfsError::Remote { exception, .. } if exception == "FileAlreadyExistsException"),
        "{error}"
    );
    hdfs.create(&file, &b"short\n"[..], true).unwrap();
    assert_eq!(hdfs.read(&file).unwrap(), b"short\n");
    hdfs.append(&file, &b"more\n"[..]).unwrap();
    assert_eq!(hdfs.read(&file).unwrap(), b"short\nmore\n");
    hdfs.create(&file, &b"short\n"[..], true).unwrap();

    let listed = hdfs.list(&dir).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].path_suffix.as_str(), listed[0].kind),
        ("run_id=r 1", FileKind::Directory)
    );

    let renamed = format!("{dir}/renamed");
    hdfs.rename(&format!("{dir}/run_id=r 1"), &renamed).unwrap();
    assert_eq!(
        hdfs.read(&format!("{renamed}/part-00000")).unwrap(),
        b"short\n"
    );
    // A plain rename never replaces a file.
    let (a, b) = (format!("{dir}/a"), format!("{dir}/b"));
    hdfs.create(&a, &b"a"[..], false).unwrap();
    hdfs.create(&b, &b"b"[..], false).unwrap();
    let error = hdfs.rename(&a, &b).unwrap_err();
    assert!(
        matches!(error, WebHdfsError::Refused { op: "RENAME", .. }),
        "{error}"
    );
    assert_eq!(hdfs.read(&b).unwrap(), b"b");

    assert!(!hdfs.delete(&format!("{dir}/missing"), false).unwrap());
    let error = hdfs.delete(&renamed, false).unwrap_err();
    assert!(error.to_string().contains("is non empty"), "{error}");
    assert!(hdfs.delete(&dir, true).unwrap());
    assert!(hdfs.status(&dir).unwrap().is_none());
}

#[test]
fn atomic_placement_replaces_the_target_and_leaves_no_temporary_file() {
    let hdfs = client();
    let dir = scratch(&hdfs, "atomic");
    let target = format!("{dir}/part-00000");
    hdfs.put_atomically(&target, &b"first\n"[..]).unwrap();
    hdfs.put_atomically(&target, &b"second\n"[..]).unwrap();
    assert_eq!(hdfs.read(&target).unwrap(), b"second\n");
    let names: Vec<String> = hdfs
        .list(&dir)
        .unwrap()
        .into_iter()
        .map(|s| s.path_suffix)
        .collect();
    assert_eq!(names, ["part-00000"]);

    // A failed upload (the reader breaks half-way) leaves the target as it was.
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("source broke"));
            }
            self.0 -= 1;
            buf[..4].copy_from_slice(b"junk");
            Ok(4)
        }
    }
    assert!(hdfs.put_atomically(&target, Broken(3)).is_err());
    assert_eq!(hdfs.read(&target).unwrap(), b"second\n");
    let names: Vec<String> = hdfs
        .list(&dir)
        .unwrap()
        .into_iter()
        .map(|s| s.path_suffix)
        .collect();
    assert_eq!(names, ["part-00000"]);
    hdfs.delete(&dir, true).unwrap();
}

#[test]
fn errors_name_the_operation_path_and_remote_exception() {
    let hdfs = client();
    let error = hdfs.read("/mhfz-tests/does/not/exist").unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let text = error.to_string();
    assert!(
        text.starts_with(
            "WebHDFS OPEN /mhfz-tests/does/not/exist: HTTP 404: FileNotFoundException"
        ),
        "{text}"
    );

    let unreachable = WebHdfs::new("http://127.0.0.1:1", "nobody").unwrap();
    let error = unreachable.mkdirs("/x").unwrap_err();
    assert!(
        matches!(error, WebHdfsError::Transport { op: "MKDIRS", .. }),
        "{error}"
    );
}
