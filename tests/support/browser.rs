//! Headless Chromium for the page tests, driven over the DevTools protocol (CDP) on a websocket:
//! Debian's `chromium` (or `$CHROMIUM`), a fresh profile per browser, no network of its own
//! (no QUIC, no background fetches, no component updates). One page per browser; commands go to
//! that page's session, and the page's script errors and console/CSP messages are collected so a
//! test can assert there were none.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// The Chromium binary, or `None` when the machine has none.
pub fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A started browser with one page, or `None` (after saying why) when Chromium is not installed.
/// With `LNADDR_REQUIRE_CHROMIUM` set (CI does), a missing Chromium fails the test instead.
pub async fn launch(width: u32, height: u32) -> Option<Browser> {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("LNADDR_REQUIRE_CHROMIUM").is_none(),
            "LNADDR_REQUIRE_CHROMIUM is set but chromium is not installed"
        );
        eprintln!(
            "SKIPPED: chromium is not installed (apt-get install chromium, or set CHROMIUM=path)"
        );
        return None;
    };
    Some(Browser::start(&bin, width, height).await)
}

pub struct Browser {
    _child: KillOnDrop,
    _profile: tempfile::TempDir,
    out: mpsc::UnboundedSender<String>,
    pending: Pending,
    next_id: AtomicU64,
    session: String,
    /// Script exceptions and console/log messages of level error or warning, as text.
    pub problems: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    async fn start(bin: &std::path::Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={width},{height}"))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // Killed however this function or the test ends, even by a panic before `Browser` exists.
        let mut child = KillOnDrop(child);
        // Chromium prints its DevTools address on stderr; a thread reads it, then keeps
        // draining stderr so Chromium never blocks on a full pipe.
        let stderr = child.0.stderr.take().expect("stderr");
        let (url_tx, url_rx) = oneshot::channel();
        std::thread::spawn(move || {
            let mut url_tx = Some(url_tx);
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("DevTools listening on ")
                    && let Some(tx) = url_tx.take()
                {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let ws_url = tokio::time::timeout(Duration::from_secs(30), url_rx)
            .await
            .expect("chromium did not start within 30 s")
            .expect("chromium exited before it listened for DevTools");

        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .expect("connect to DevTools");
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let problems: Arc<Mutex<Vec<String>>> = Arc::default();
        {
            let pending = pending.clone();
            let problems = problems.clone();
            tokio::spawn(async move {
                while let Some(Ok(msg)) = stream.next().await {
                    let Message::Text(text) = msg else { continue };
                    let Ok(v) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    if let Some(id) = v["id"].as_u64() {
                        if let Some(tx) = pending.lock().expect("lock").remove(&id) {
                            let _ = tx.send(v);
                        }
                    } else if let Some(problem) = problem_of(&v) {
                        problems.lock().expect("lock").push(problem);
                    }
                }
            });
        }
        let mut browser = Browser {
            _child: child,
            _profile: profile,
            out,
            pending,
            next_id: AtomicU64::new(1),
            session: String::new(),
            problems,
        };
        let target = browser
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let target_id = target["targetId"].as_str().expect("target id").to_string();
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(domain, json!({})).await;
        }
        browser.viewport(width, height).await;
        browser
    }

    /// Sends one CDP command (to the page once attached) and answers its `result`.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().expect("lock").insert(id, tx);
        self.out.send(msg.to_string()).expect("browser connection");
        let answer = tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .unwrap_or_else(|_| panic!("no answer to {method} within 60 s"))
            .expect("browser connection");
        assert!(
            answer.get("error").is_none(),
            "{method} failed: {}",
            answer["error"]
        );
        answer["result"].clone()
    }

    /// The viewport size (CSS pixels); narrow widths emulate a phone.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": width < 600}),
        )
        .await;
    }

    /// Opens `url` and waits until the document and its deferred scripts have run.
    pub async fn goto(&self, url: &str) {
        let nav = self.call("Page.navigate", json!({"url": url})).await;
        assert!(
            nav.get("errorText").is_none(),
            "navigating to {url}: {}",
            nav["errorText"]
        );
        self.wait_for(
            "document.readyState === 'complete'",
            &format!("{url} loads"),
        )
        .await;
    }

    /// Evaluates a JS expression (promises awaited) and answers its value.
    pub async fn eval(&self, expression: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expression} threw: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Waits (up to 60 s: the machine may be busy) until `expression` is truthy; panics naming `what` otherwise.
    pub async fn wait_for(&self, expression: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let check = format!(
            "(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()"
        );
        loop {
            if self.eval(&check).await == Value::Bool(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what} ({expression}); problems: {:?}",
                self.problems()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `script` (a click, a submit), then waits until `until` is truthy ([`Self::wait_for`]).
    pub async fn act(&self, script: &str, until: &str, what: &str) {
        self.eval(script).await;
        self.wait_for(until, what).await;
    }

    /// The text content of the first element matching `selector` (empty when none).
    pub async fn text(&self, selector: &str) -> String {
        let expr = format!(
            "(document.querySelector({sel}) || {{}}).textContent || ''",
            sel = json!(selector)
        );
        self.eval(&expr)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's width in CSS pixels (the `scrollWidth` of the root element).
    pub async fn scroll_width(&self) -> u64 {
        self.eval("document.documentElement.scrollWidth")
            .await
            .as_u64()
            .expect("scrollWidth")
    }

    /// A full-page PNG screenshot written to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("data"))
            .expect("base64");
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Asserts no script error, no CSP violation, no failed load on the pages seen so far.
    pub fn assert_clean(&self) {
        assert!(
            self.problems().is_empty(),
            "browser problems: {:?}",
            self.problems()
        );
    }

    /// Script errors and console or CSP messages seen so far.
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().expect("lock").clone()
    }
}

/// The Chromium process, killed (and reaped) when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A script exception, or a console or log entry of level error or warning, as text.
fn problem_of(event: &Value) -> Option<String> {
    let params = &event["params"];
    match event["method"].as_str()? {
        "Runtime.exceptionThrown" => Some(format!(
            "exception: {}",
            params["exceptionDetails"]["exception"]["description"]
        )),
        "Log.entryAdded" => {
            let entry = &params["entry"];
            // A refused API call (a 401, a route not there) is the page's to show in words.
            let api_answer = entry["source"] == "network";
            (!api_answer && matches!(entry["level"].as_str(), Some("error" | "warning")))
                .then(|| format!("log: {}", entry["text"]))
        }
        "Runtime.consoleAPICalled" => matches!(params["type"].as_str(), Some("error" | "warning"))
            .then(|| format!("console: {}", params["args"])),
        _ => None,
    }
}

/// Where a test's screenshots go: `target/pages-screenshots/` under the cargo target directory.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("pages-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}
