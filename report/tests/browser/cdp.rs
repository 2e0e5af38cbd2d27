//! Just enough of the Chrome DevTools Protocol to drive headless Chromium: one page, commands
//! answered in order, events kept for the test to look at.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// No single step of the browser may take longer.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// A headless Chromium with one page attached; killed when dropped.
pub struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Every event received so far, in order.
    pub events: Vec<Value>,
}

impl Browser {
    /// Starts `chromium` (Debian's package) with a profile in `profile_dir`, opens a blank page
    /// and enables the domains whose events the test reads: console, log, network, page.
    pub fn start(profile_dir: &Path) -> Browser {
        let program = std::env::var("MHFZ_CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let mut child = Command::new(&program)
            .args([
                "--headless",
                // As root in a container, Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile_dir.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} (Debian package chromium; .ci/run installs it): {e}")
            });
        let url = devtools_url(&mut child);
        let (mut socket, _) = tungstenite::connect(url.as_str())
            .unwrap_or_else(|e| panic!("connecting to Chromium's DevTools at {url}: {e}"));
        if let MaybeTlsStream::Plain(stream) = socket.get_mut() {
            stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
        }
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" }));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Runtime", "Log", "Network", "Page"] {
            browser.call(&format!("{domain}.enable"), json!({}));
        }
        browser
    }

    /// Sends a command to the page (to the browser before a page is attached) and returns its
    /// result; events that arrive meanwhile are kept.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("sending {method}: {e}"));
        loop {
            let reply = self.receive(method);
            if reply["id"] == json!(id) {
                assert!(
                    reply.get("error").is_none(),
                    "{method} failed: {}",
                    reply["error"]
                );
                return reply["result"].clone();
            }
        }
    }

    /// Waits for the event `method` (already received or still to come).
    pub fn wait_for(&mut self, method: &str) -> Value {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(event) = self.events.iter().find(|e| e["method"] == method) {
                return event.clone();
            }
            assert!(Instant::now() < deadline, "no {method} event in time");
            self.receive(method);
        }
    }

    /// Evaluates `expression` in the page; its value, which must be JSON.
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "evaluating {expression}: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Reads one message; an event is also kept in `events`.
    fn receive(&mut self, waiting_for: &str) -> Value {
        loop {
            let message = self
                .socket
                .read()
                .unwrap_or_else(|e| panic!("waiting for {waiting_for}: {e}"));
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(text.as_str()).unwrap();
            if value.get("method").is_some() {
                self.events.push(value.clone());
            }
            return value;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser's DevTools WebSocket URL, which Chromium prints on stderr once it listens.
fn devtools_url(child: &mut Child) -> String {
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    // The rest of stderr is drained by this thread, so Chromium never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = sender.send(url.trim().to_string());
                    sent = true;
                }
            }
        }
    });
    receiver
        .recv_timeout(STEP_TIMEOUT)
        .expect("Chromium did not print its DevTools address in time")
}
