//! Every streaming program names itself (not the crate) in `--version`, as the deploy checks read it.

mod common;

#[test]
fn each_program_reports_its_own_name_and_the_release() {
    let programs = [
        ("mhfz-exporter", env!("CARGO_BIN_EXE_mhfz-exporter")),
        ("mhfz-loader", env!("CARGO_BIN_EXE_mhfz-loader")),
        ("mhfz-local-runner", common::RUNNER),
        ("mhfz-mapper", common::MAPPER),
        ("mhfz-pipeline", env!("CARGO_BIN_EXE_mhfz-pipeline")),
        ("mhfz-reducer", common::REDUCER),
    ];
    for (name, program) in programs {
        let (ok, out, err) = common::run(program, &["--version"], b"");
        assert!(ok, "{name} --version: {err}");
        assert_eq!(
            String::from_utf8(out).unwrap().trim_end(),
            format!("{name} {}", env!("CARGO_PKG_VERSION")),
        );
    }
}
