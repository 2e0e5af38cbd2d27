//! Test harness for the scraper: a loopback HTTP server over a directory with injectable
//! misbehaviour, small hand-written weapon pages, and helpers to run `mhfz-scraper`.
#![allow(dead_code)] // each test binary uses its own part of the harness

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tiny_http::{Header, Response, Server, StatusCode};

pub mod mirror;

/// What the server does for one URL path instead of (or before) serving the file.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Always answer with this status and an empty body.
    Status(u16),
    /// Answer `times` times with `status` (and `Retry-After` if given), then serve the file.
    FailThen {
        status: u16,
        times: usize,
        retry_after: Option<String>,
    },
    /// Wait this long before serving the file.
    Delay(Duration),
    /// Serve these bytes chunked, without a `Content-Length`.
    Chunked(Vec<u8>),
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub path: String,
    pub at: Instant,
    pub user_agent: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    /// The status the server answered with (0 while the answer is pending, e.g. delayed).
    pub status: u16,
    serial: usize,
}

static NEXT_SERIAL: AtomicUsize = AtomicUsize::new(0);

#[derive(Default)]
struct State {
    behaviours: HashMap<String, Behaviour>,
    validators: bool,
    seen: Vec<SeenRequest>,
}

/// Serves `root` on 127.0.0.1: URL path `/a/b` is the file `root/a/b`.
pub struct TestServer {
    server: Arc<Server>,
    port: u16,
    state: Arc<Mutex<State>>,
    acceptor: Option<JoinHandle<()>>,
}

/// The `Last-Modified` every file gets when validators are on.
pub const LAST_MODIFIED: &str = "Mon, 10 Mar 2025 00:00:00 GMT";

impl TestServer {
    pub fn serve(root: &Path) -> TestServer {
        let server = Arc::new(Server::http("127.0.0.1:0").expect("bind a loopback port"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let state = Arc::new(Mutex::new(State::default()));
        let acceptor = {
            let (server, state, root) = (server.clone(), state.clone(), root.to_path_buf());
            thread::spawn(move || {
                for request in server.incoming_requests() {
                    let (state, root) = (state.clone(), root.clone());
                    // One thread per request, so a slow answer does not hold up the next.
                    thread::spawn(move || handle(request, &state, &root));
                }
            })
        };
        TestServer {
            server,
            port,
            state,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn set(&self, path: &str, behaviour: Behaviour) {
        self.state
            .lock()
            .unwrap()
            .behaviours
            .insert(path.to_string(), behaviour);
    }

    /// Send `ETag` and `Last-Modified`, and answer matching conditional requests with 304.
    pub fn enable_validators(&self) {
        self.state.lock().unwrap().validators = true;
    }

    pub fn seen(&self) -> Vec<SeenRequest> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn seen_for(&self, path: &str) -> Vec<SeenRequest> {
        self.seen().into_iter().filter(|r| r.path == path).collect()
    }

    pub fn clear_seen(&self) {
        self.state.lock().unwrap().seen.clear();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn request_header(request: &tiny_http::Request, name: &'static str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str().to_string())
}

fn etag_of(body: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}-{}\"", hasher.finish(), body.len())
}

fn handle(request: tiny_http::Request, state: &Mutex<State>, root: &Path) {
    let path = request
        .url()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let seen = SeenRequest {
        path: path.clone(),
        at: Instant::now(),
        user_agent: request_header(&request, "User-Agent"),
        if_none_match: request_header(&request, "If-None-Match"),
        if_modified_since: request_header(&request, "If-Modified-Since"),
        status: 0,
        serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
    };
    // Logged on arrival, so that requests still being answered (delays) are visible.
    let serial = seen.serial;
    state.lock().unwrap().seen.push(seen.clone());
    let (behaviour, validators) = {
        let mut state = state.lock().unwrap();
        let behaviour = state.behaviours.get_mut(&path).and_then(|behaviour| {
            let current = behaviour.clone();
            if let Behaviour::FailThen { times, .. } = behaviour {
                if *times == 0 {
                    return None;
                }
                *times -= 1;
            }
            Some(current)
        });
        (behaviour, state.validators)
    };
    let record = |status: u16| {
        if let Some(logged) = state
            .lock()
            .unwrap()
            .seen
            .iter_mut()
            .find(|logged| logged.serial == serial)
        {
            logged.status = status;
        }
    };

    match behaviour {
        Some(Behaviour::Status(status)) => {
            record(status);
            let _ = request.respond(Response::empty(StatusCode(status)));
            return;
        }
        Some(Behaviour::FailThen {
            status,
            retry_after,
            ..
        }) => {
            record(status);
            let mut response = Response::empty(StatusCode(status));
            if let Some(after) = retry_after {
                response.add_header(header("Retry-After", &after));
            }
            let _ = request.respond(response);
            return;
        }
        Some(Behaviour::Chunked(body)) => {
            record(200);
            let response = Response::new(
                StatusCode(200),
                vec![header("Content-Type", "text/html")],
                std::io::Cursor::new(body),
                None,
                None,
            );
            let _ = request.respond(response);
            return;
        }
        Some(Behaviour::Delay(delay)) => thread::sleep(delay),
        None => {}
    }

    let relative = path.trim_start_matches('/');
    let body = match fs::read(root.join(relative)) {
        Ok(body) if !relative.split('/').any(|part| part == "..") => body,
        _ => {
            record(404);
            let _ = request.respond(Response::empty(StatusCode(404)));
            return;
        }
    };
    let mut headers = vec![header("Content-Type", "text/html; charset=utf-8")];
    if validators {
        let etag = etag_of(&body);
        let not_modified = match &seen.if_none_match {
            Some(tags) => tags.split(',').any(|tag| tag.trim() == etag),
            None => seen.if_modified_since.as_deref() == Some(LAST_MODIFIED),
        };
        headers.push(header("ETag", &etag));
        headers.push(header("Last-Modified", LAST_MODIFIED));
        if not_modified {
            record(304);
            let mut response = Response::empty(StatusCode(304));
            for h in headers {
                response.add_header(h);
            }
            let _ = request.respond(response);
            return;
        }
    }
    record(200);
    let length = body.len();
    let _ = request.respond(Response::new(
        StatusCode(200),
        headers,
        std::io::Cursor::new(body),
        Some(length),
        None,
    ));
}

/// A weapon row of a hand-written long-sword page.
pub struct Row<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub rarity: &'a str,
    pub attack: &'a str,
}

pub fn row<'a>(id: &'a str, name: &'a str, rarity: &'a str, attack: &'a str) -> Row<'a> {
    Row {
        id,
        name,
        rarity,
        attack,
    }
}

/// A blademaster page in the site's layout, with made-up weapons.
pub fn weapon_page(rows: &[Row]) -> String {
    let mut html = String::from(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n\
         <html><head><meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\">\
         <title>test</title></head><body>\n<div id=\"data\">Test Sword\n\
         <table id=\"ken\" border=\"1\">\n<thead><tr><th>Name</th><th>Rarity</th>\
         <th>Attributes</th><th>Sharpness</th><th style=\"font-size:90%\">Slots<br></th>\
         <th style=\"font-size:90%\">Rank</th><th>Price</th><th>Creation Mats</th>\
         <th>Upgrade Mats</th><th>Description</th></tr></thead><tbody>\n",
    );
    for row in rows {
        html.push_str(&format!(
            "<tr><td id=\"{}\">{}</td><td>{}</td><td>{} 0%</td>\
             <td><ul><li class=\"r s10\"><li class=\"g s20\"></li></ul>\
             <ul><li class=\"r s10\"><li class=\"g s25\"></li></ul></td>\
             <td>1</td><td>HR<br>3</td><td>1200</td>\
             <td><a href=\"../sozai/sozai.htm?0001\">Test Ore</a>x2</td><td><br></td>\
             <td>A made-up blade<br>for tests.</td></tr>\n",
            row.id, row.name, row.rarity, row.attack
        ));
    }
    html.push_str("</tbody></table></div></body></html>\n");
    html
}

/// A class index linking these pages.
pub fn index_page(links: &[&str]) -> String {
    let items: String = links
        .iter()
        .map(|link| format!("<li><a href=\"{link}\">{link}</a>\n"))
        .collect();
    format!("<html><head><title>index</title></head><body><ul>\n{items}</ul></body></html>\n")
}

/// A small long-sword site under `root/buki/`: the index links the base, G and Ravi pages and
/// the tower page; the SP page exists but is not linked; there is no RNG-cat page.
/// Returns the number of records it holds per page file.
pub fn write_long_sword_site(root: &Path) -> Vec<(&'static str, usize)> {
    let buki = root.join("buki");
    fs::create_dir_all(&buki).unwrap();
    let write = |name: &str, text: String| fs::write(buki.join(name), text).unwrap();
    write(
        "buki.htm",
        index_page(&[
            "tachi.htm",
            "tachi_g.htm#t8",
            "tachi_s.htm#t5",
            "tachi_t.htm",
        ]),
    );
    write(
        "tachi.htm",
        weapon_page(&[
            row("l0001", "Test Katana", "1", "480"),
            row("l0002", "Test Katana+", "2", "528"),
            row("l0003", "Test Katana Ultima", "4", "672"),
        ]),
    );
    write(
        "tachi_g.htm",
        weapon_page(&[
            row("l1001", "Test G Blade Lv1", "8", "1200"),
            row("l1002", "Test G Blade Lv2", "8", "1300"),
        ]),
    );
    write(
        "tachi_s.htm",
        weapon_page(&[row("l2001", "Test Ravi Blade Lv1", "10", "1400")]),
    );
    write(
        "tachi_sp.htm",
        weapon_page(&[row("l3001", "Test SP Blade", "7", "1000")]),
    );
    vec![
        ("tachi.htm", 3),
        ("tachi_g.htm", 2),
        ("tachi_s.htm", 1),
        ("tachi_sp.htm", 1),
    ]
}

/// Non-empty output lines parsed as JSON.
pub fn ndjson(text: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(text)
        .expect("NDJSON output is UTF-8")
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_str(line).expect("every output line is JSON"))
        .collect()
}

/// The summary line of `page` in the scraper's stderr.
pub fn summary_line<'a>(stderr: &'a str, page: &str) -> &'a str {
    stderr
        .lines()
        .find(|line| line.split_whitespace().next() == Some(page))
        .unwrap_or_else(|| panic!("no summary line for {page} in:\n{stderr}"))
}

/// Runs the real `mhfz-scraper` binary.
pub fn run_scraper<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mhfz-scraper"))
        .args(args)
        .output()
        .expect("run mhfz-scraper")
}

pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
