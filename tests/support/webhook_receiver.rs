//! A webhook receiver on a real loopback socket, as a shop would run one: it checks the
//! `lnaddr-signature` header of every delivery with its own HMAC-SHA256 (the `hmac` crate, not
//! lnaddr's code), records what arrives, and can be "down" (answering 503, or not listening at
//! all), slow, or failing each event's first try. It also notices two deliveries of one event id
//! in flight at the same moment.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One accepted (2xx) delivery.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub body: Value,
    pub signature: String,
}

#[derive(Default)]
pub struct State {
    secrets: Mutex<Vec<String>>,
    pub delivered: Mutex<Vec<Delivery>>,
    /// Every request, accepted or not.
    pub attempts: AtomicU32,
    pub bad_signatures: AtomicU32,
    /// Two deliveries of one id were being handled at the same moment.
    pub overlaps: AtomicU32,
    down: AtomicBool,
    fail_first_try: AtomicBool,
    delay_ms: AtomicU32,
    in_flight: Mutex<HashSet<String>>,
    tries: Mutex<HashMap<String, u32>>,
}

pub struct Receiver {
    pub port: u16,
    pub state: Arc<State>,
    task: Option<JoinHandle<()>>,
}

/// HMAC-SHA256(secret, "t.body") checked against `t=..,v1=..`, with a 5 minute window.
pub fn signature_ok(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        if let Some(v) = part.strip_prefix("t=") {
            t = v.parse::<u64>().ok();
        } else if let Some(v) = part.strip_prefix("v1=") {
            v1 = hex::decode(v).ok();
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let now = lnaddr::types::unix_now();
    if now.abs_diff(t) > 300 {
        return false;
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}

impl Receiver {
    /// Listening on a free port.
    pub async fn start() -> Receiver {
        Self::start_on(0).await
    }

    /// Listening on `port` (0: any).
    pub async fn start_on(port: u16) -> Receiver {
        let mut r = Receiver {
            port,
            state: Arc::default(),
            task: None,
        };
        r.listen().await;
        r
    }

    /// The URL to register.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/lnaddr?shop=1", self.port)
    }

    /// Accepts signatures made with `secret` (the one the registration answered).
    pub fn trust(&self, secret: &str) {
        self.state
            .secrets
            .lock()
            .expect("lock")
            .push(secret.to_string());
    }

    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        let ms = u32::try_from(delay.as_millis()).expect("small delay");
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }

    pub fn fail_first_try(&self, on: bool) {
        self.state.fail_first_try.store(on, Ordering::SeqCst);
    }

    /// Stops listening (connections are refused) until [`Receiver::listen`].
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn listen(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind receiver");
        self.port = listener.local_addr().expect("addr").port();
        let state = self.state.clone();
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }));
    }

    /// Accepted deliveries so far.
    pub fn delivered(&self) -> Vec<Delivery> {
        self.state.delivered.lock().expect("lock").clone()
    }

    /// Distinct event ids accepted so far.
    pub fn ids(&self) -> HashSet<String> {
        self.delivered().into_iter().map(|d| d.id).collect()
    }

    /// Waits until `n` distinct event ids were accepted; answers one delivery per id.
    pub async fn wait_events(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        super::process::wait_for(&format!("{n} webhook events"), timeout, || async {
            let all = self.delivered();
            let mut seen = HashSet::new();
            let unique: Vec<Delivery> = all
                .into_iter()
                .filter(|d| seen.insert(d.id.clone()))
                .collect();
            (unique.len() >= n).then_some(unique)
        })
        .await
    }

    pub fn attempts(&self) -> u32 {
        self.state.attempts.load(Ordering::SeqCst)
    }

    pub fn bad_signatures(&self) -> u32 {
        self.state.bad_signatures.load(Ordering::SeqCst)
    }

    pub fn overlaps(&self) -> u32 {
        self.state.overlaps.load(Ordering::SeqCst)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn answer(status: u16) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    resp
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    state.attempts.fetch_add(1, Ordering::SeqCst);
    let signature = req
        .headers()
        .get("lnaddr-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Ok(body) = req.into_body().collect().await else {
        return answer(400);
    };
    let body = body.to_bytes();
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return answer(400);
    };
    let id = value["id"].as_str().unwrap_or_default().to_string();
    if !state.in_flight.lock().expect("lock").insert(id.clone()) {
        state.overlaps.fetch_add(1, Ordering::SeqCst);
    }
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
    }
    state.in_flight.lock().expect("lock").remove(&id);
    let first_try = {
        let mut tries = state.tries.lock().expect("lock");
        let n = tries.entry(id.clone()).or_default();
        *n += 1;
        *n == 1
    };
    if state.down.load(Ordering::SeqCst)
        || (first_try && state.fail_first_try.load(Ordering::SeqCst))
    {
        return answer(503);
    }
    let trusted = state
        .secrets
        .lock()
        .expect("lock")
        .iter()
        .any(|s| signature_ok(s, &signature, &body));
    if !trusted {
        state.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return answer(401);
    }
    state.delivered.lock().expect("lock").push(Delivery {
        id,
        body: value,
        signature,
    });
    answer(200)
}
