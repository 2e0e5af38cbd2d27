//! `mhfz-scraper` against a misbehaving loopback HTTP server.

mod util;

use std::fs;
use std::time::Duration;

use util::*;

/// A long-sword site served over HTTP, and the scraper arguments to reach it without delays.
fn served_site() -> (tempfile::TempDir, TestServer) {
    let root = tempfile::tempdir().unwrap();
    write_long_sword_site(root.path());
    let server = TestServer::serve(root.path());
    (root, server)
}

fn fast_args(server: &TestServer) -> Vec<String> {
    [
        "--site",
        &server.url("/buki/"),
        "--rate",
        "0",
        "--retry-delay",
        "0.01",
        "--no-cache",
    ]
    .map(str::to_string)
    .to_vec()
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(more.iter().map(|arg| arg.to_string()));
    args
}

#[test]
fn server_errors_are_retried_until_the_page_comes() {
    let (_root, server) = served_site();
    server.set(
        "/buki/tachi_g.htm",
        Behaviour::FailThen {
            status: 503,
            times: 2,
            retry_after: None,
        },
    );
    let output = run_scraper(&fast_args(&server));
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let statuses: Vec<u16> = server
        .seen_for("/buki/tachi_g.htm")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert!(summary_line(&stderr, "tachi_g.htm").contains(" ok "));
    let records = ndjson(&output.stdout);
    assert_eq!(records.iter().filter(|r| r["variant"] == "g").count(), 2);
}

#[test]
fn retry_after_is_honoured() {
    let (_root, server) = served_site();
    server.set(
        "/buki/tachi.htm",
        Behaviour::FailThen {
            status: 429,
            times: 1,
            retry_after: Some("1".into()),
        },
    );
    let output = run_scraper(&fast_args(&server));
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let seen = server.seen_for("/buki/tachi.htm");
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].at;
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
}

#[test]
fn a_missing_expected_page_is_not_retried_and_fails_the_run_after_the_others() {
    let (_root, server) = served_site();
    server.set("/buki/tachi_g.htm", Behaviour::Status(404));
    let output = run_scraper(&fast_args(&server));
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        server.seen_for("/buki/tachi_g.htm").len(),
        1,
        "no retry on 404"
    );
    let url = server.url("/buki/tachi_g.htm");
    assert!(
        stderr.contains(&format!("error: {url}: not found (404)")),
        "{stderr}"
    );
    let line = summary_line(&stderr, "tachi_g.htm");
    assert!(
        line.contains(" FAILED ") && line.contains("not found (404)"),
        "{line}"
    );
    // The pages after it were still scraped.
    assert!(summary_line(&stderr, "tachi_s.htm").contains(" ok "));
    let records = ndjson(&output.stdout);
    assert_eq!(records.len(), 3 + 1 + 1);
}

#[test]
fn other_client_errors_are_not_retried_either() {
    let (_root, server) = served_site();
    server.set("/buki/tachi_s.htm", Behaviour::Status(403));
    let output = run_scraper(&fast_args(&server));
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(server.seen_for("/buki/tachi_s.htm").len(), 1);
    assert!(
        stderr.contains("HTTP status 403 (after 1 attempt(s))"),
        "{stderr}"
    );
}

#[test]
fn a_slow_page_times_out_is_retried_and_reported() {
    let (_root, server) = served_site();
    server.set(
        "/buki/tachi_s.htm",
        Behaviour::Delay(Duration::from_secs(3)),
    );
    let args = with(fast_args(&server), &["--timeout", "0.5", "--retries", "1"]);
    let output = run_scraper(&args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(server.seen_for("/buki/tachi_s.htm").len(), 2);
    let line = summary_line(&stderr, "tachi_s.htm");
    assert!(line.contains("timed out (after 2 attempt(s))"), "{line}");
    assert!(summary_line(&stderr, "tachi_sp.htm").contains(" ok "));
}

#[test]
fn robots_txt_is_obeyed() {
    let (root, server) = served_site();
    fs::write(
        root.path().join("robots.txt"),
        "User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /buki/tachi_g\n",
    )
    .unwrap();
    let output = run_scraper(&fast_args(&server));
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(server.seen_for("/buki/tachi_g.htm").is_empty());
    assert_eq!(server.seen_for("/robots.txt").len(), 1, "read once");
    assert!(summary_line(&stderr, "tachi_g.htm").contains("disallowed by robots.txt"));
    assert!(summary_line(&stderr, "tachi.htm").contains(" ok "));
}

#[test]
fn a_group_for_our_agent_overrides_the_wildcard_group() {
    let (root, server) = served_site();
    fs::write(
        root.path().join("robots.txt"),
        "User-agent: *\nDisallow: /\n\nUser-agent: mhfz-scraper\nAllow: /\n",
    )
    .unwrap();
    let output = run_scraper(&fast_args(&server));
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
}

#[test]
fn conditional_gets_reuse_the_cache() {
    let (root, server) = served_site();
    server.enable_validators();
    let cache = root.path().join("cache");
    let args: Vec<String> = fast_args(&server)
        .into_iter()
        .filter(|arg| arg != "--no-cache")
        .chain(["--cache-dir".into(), cache.display().to_string()])
        .collect();

    let first = run_scraper(&args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr_of(&first));
    assert!(server
        .seen_for("/buki/tachi.htm")
        .iter()
        .all(|r| r.if_none_match.is_none() && r.status == 200));
    assert!(summary_line(&stderr_of(&first), "tachi.htm").contains(" no"));
    server.clear_seen();

    let second = run_scraper(&args);
    let stderr = stderr_of(&second);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert_eq!(second.stdout, first.stdout, "same records from the cache");
    let pages = server.seen();
    for page in ["/buki/buki.htm", "/buki/tachi.htm", "/buki/tachi_g.htm"] {
        let seen: Vec<_> = pages.iter().filter(|r| r.path == page).collect();
        assert_eq!(seen.len(), 1, "{page}");
        assert!(seen[0].if_none_match.is_some(), "{page} sent If-None-Match");
        assert_eq!(seen[0].if_modified_since.as_deref(), Some(LAST_MODIFIED));
        assert_eq!(seen[0].status, 304, "{page}");
    }
    let line = summary_line(&stderr, "tachi.htm");
    assert!(line.contains(" ok ") && line.contains(" yes"), "{line}");
    assert!(cache
        .join("127.0.0.1_".to_string() + &server_port(&server))
        .is_dir());
}

fn server_port(server: &TestServer) -> String {
    server.url("").rsplit(':').next().unwrap().to_string()
}

#[test]
fn pages_over_the_size_cap_fail() {
    let (root, server) = served_site();
    let sp_size = fs::metadata(root.path().join("buki/tachi_sp.htm"))
        .unwrap()
        .len();
    let base_size = fs::metadata(root.path().join("buki/tachi.htm"))
        .unwrap()
        .len();
    assert!(base_size > sp_size + 100);
    // Announced length over the cap; and a chunked body with no length that grows past it.
    server.set("/buki/tachi_g.htm", Behaviour::Chunked(vec![b'x'; 1 << 20]));
    let args = with(
        fast_args(&server),
        &["--max-page-bytes", &(sp_size + 100).to_string()],
    );
    let output = run_scraper(&args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for page in ["tachi.htm", "tachi_g.htm"] {
        let line = summary_line(&stderr, page);
        assert!(
            line.contains(" FAILED ") && line.contains("larger than the"),
            "{line}"
        );
        assert_eq!(
            server.seen_for(&format!("/buki/{page}")).len(),
            1,
            "no retry"
        );
    }
    assert!(summary_line(&stderr, "tachi_sp.htm").contains(" ok "));
}

#[test]
fn unlinked_variants_that_do_not_exist_are_absent_not_errors() {
    let (_root, server) = served_site();
    let output = run_scraper(&fast_args(&server));
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(server.seen_for("/buki/tachi_n.htm")[0].status, 404);
    assert!(summary_line(&stderr, "tachi_n.htm").contains(" absent "));
    assert!(summary_line(&stderr, "tachi_sp.htm").contains(" ok "));
    assert!(
        server.seen_for("/buki/tachi_t.htm").is_empty(),
        "tower pages are not fetched"
    );
}

#[test]
fn requests_are_identified_and_rate_limited() {
    let (_root, server) = served_site();
    let args: Vec<String> = fast_args(&server)
        .into_iter()
        .map(|arg| if arg == "0" { "10".to_string() } else { arg })
        .collect();
    assert!(args.windows(2).any(|w| w[0] == "--rate" && w[1] == "10"));
    let output = run_scraper(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let seen = server.seen();
    // robots.txt, the index and five variant pages.
    assert_eq!(seen.len(), 7);
    for pair in seen.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(90), "{gap:?} between requests");
    }
    let agent = seen[0].user_agent.as_deref().unwrap();
    assert!(
        agent.starts_with("mhfz-scraper/") && agent.contains("(+"),
        "{agent}"
    );
}

#[test]
fn an_unreachable_robots_txt_stops_all_fetching() {
    let (_root, server) = served_site();
    server.set("/robots.txt", Behaviour::Status(500));
    let args = with(fast_args(&server), &["--retries", "1"]);
    let output = run_scraper(&args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("robots.txt could not be read"), "{stderr}");
    assert_eq!(server.seen_for("/robots.txt").len(), 2, "retried once");
    assert!(server.seen_for("/buki/buki.htm").is_empty());
}
