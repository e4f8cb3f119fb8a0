//! Rate limits over real sockets: per client IP (with X-Forwarded-For believed only from trusted
//! proxies), per account (shared through Redis by two gateways), 429 answers with `Retry-After` and
//! the LNURL error body, buckets that refill, and the store buckets of both backends.

mod support;

use std::time::Duration;

use lnaddr::ratelimit::RateDecision;
use lnaddr::store::RateLimitStore;
use lnaddr::store::embedded::EmbeddedStore;
use lnaddr::store::redis::RedisStore;
use serde_json::Value;
use support::gateway::TestGateway;
use support::process::wait_for;
use support::redis_server::RedisServer;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn domains(url: &str) -> (String, String) {
    (
        "LNADDR_DOMAINS".into(),
        format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
    )
}

/// GET on the public listener as client `xff` (sent as X-Forwarded-For when given).
async fn get(gw: &TestGateway, path: &str, xff: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = gw.http.get(format!("{}{path}", gw.public));
    if let Some(ip) = xff {
        req = req.header("x-forwarded-for", ip);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, retry, resp.json().await.expect("JSON body"))
}

fn assert_limited(status: u16, retry: &Option<String>, body: &Value) {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["status"], "ERROR", "{body}");
    assert!(body["reason"].is_string(), "{body}");
    let secs: u64 = retry
        .as_deref()
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
}

#[tokio::test]
async fn a_burst_is_limited_per_client_ip_and_the_bucket_refills() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = TestGateway::start_with(dir.path(), |url| {
        let mut e = env(&[
            ("LNADDR_LIMITS__ENABLED", "true"),
            ("LNADDR_LIMITS__TRUSTED_PROXIES", r#"["127.0.0.1"]"#),
            ("LNADDR_LIMITS__CALLBACK_PER_MINUTE", "60"),
            ("LNADDR_LIMITS__CALLBACK_BURST", "3"),
            ("LNADDR_LIMITS__ACCOUNT_CALLBACK_PER_MINUTE", "6000"),
            ("LNADDR_LIMITS__ACCOUNT_CALLBACK_BURST", "1000"),
        ]);
        e.push(domains(url));
        e
    })
    .await;
    gw.create_account("alice@localhost").await;
    let path = "/lnurlp/alice/callback?amount=1000";
    let a = Some("198.51.100.1");

    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..8 {
        let (status, retry, body) = get(&gw, path, a).await;
        statuses.push(status);
        if status == 429 {
            limited = Some((status, retry, body));
        } else {
            assert_eq!(status, 200, "{body}");
            assert!(body["pr"].is_string(), "{body}");
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    let (status, retry, body) = limited.expect("some requests over the burst were limited");
    assert_limited(status, &retry, &body);

    // Another client behind the same trusted proxy is served meanwhile.
    let (status, _, body) = get(&gw, path, Some("198.51.100.2")).await;
    assert_eq!(status, 200, "{body}");
    // Lookups have their own bucket.
    let (status, _, body) = get(&gw, "/.well-known/lnurlp/alice", a).await;
    assert_eq!(status, 200, "{body}");

    // One token comes back per second.
    wait_for(
        "client A's bucket to refill",
        Duration::from_secs(5),
        || async { (get(&gw, path, a).await.0 == 200).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = TestGateway::start_with(dir.path(), |url| {
        let mut e = env(&[
            ("LNADDR_LIMITS__ENABLED", "true"),
            ("LNADDR_LIMITS__TRUSTED_PROXIES", r#"["10.1.2.3"]"#),
            ("LNADDR_LIMITS__LOOKUP_PER_MINUTE", "1"),
            ("LNADDR_LIMITS__LOOKUP_BURST", "2"),
        ]);
        e.push(domains(url));
        e
    })
    .await;
    let mut last = None;
    for i in 0..3 {
        let xff = format!("203.0.113.{i}");
        last = Some(get(&gw, "/.well-known/lnurlp/nobody", Some(&xff)).await);
    }
    let (status, retry, body) = last.expect("three requests");
    assert_limited(status, &retry, &body);
    // Health checks are never limited.
    let (status, _, _) = get(&gw, "/healthz", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_account_limit_is_shared_by_gateways_on_one_redis() {
    let redis = RedisServer::start();
    let url = redis.url();
    let dirs = [
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    ];
    let mut gws = Vec::new();
    for dir in &dirs {
        let url = url.clone();
        gws.push(
            TestGateway::start_with(dir.path(), move |public| {
                let mut e = env(&[
                    ("LNADDR_LIMITS__ENABLED", "true"),
                    ("LNADDR_LIMITS__TRUSTED_PROXIES", r#"["127.0.0.1"]"#),
                    ("LNADDR_LIMITS__ACCOUNT_CALLBACK_PER_MINUTE", "1"),
                    ("LNADDR_LIMITS__ACCOUNT_CALLBACK_BURST", "3"),
                    ("LNADDR_STORE__KIND", "redis"),
                ]);
                e.push(("LNADDR_STORE__URL".into(), url));
                e.push(domains(public));
                e
            })
            .await,
        );
    }
    gws[0].create_account("carol@localhost").await;
    let path = "/lnurlp/carol/callback?amount=1000";
    // Three callbacks from three clients through two gateways use up the account's burst...
    for (i, gw) in [&gws[0], &gws[1], &gws[0]].iter().enumerate() {
        let (status, _, body) = get(gw, path, Some(&format!("192.0.2.{i}"))).await;
        assert_eq!(status, 200, "{body}");
    }
    // ...so the fourth, from yet another client on the other gateway, is refused.
    let (status, retry, body) = get(&gws[1], path, Some("192.0.2.9")).await;
    assert_limited(status, &retry, &body);
    // Other accounts are not affected.
    gws[1].create_account("dave@localhost").await;
    let (status, _, body) = get(&gws[1], "/lnurlp/dave/callback?amount=1000", None).await;
    assert_eq!(status, 200, "{body}");
}

async fn store_buckets_behave(store: &dyn RateLimitStore, other: &dyn RateLimitStore) {
    let ms = Duration::from_millis;
    // A burst of 3 is allowed at once, the 4th is not, with a hint of when to retry.
    for _ in 0..3 {
        let d = store.take_token("acct:t/a", ms(60_000), 3).await;
        assert_eq!(d.expect("store"), RateDecision::Allowed);
    }
    match other
        .take_token("acct:t/a", ms(60_000), 3)
        .await
        .expect("store")
    {
        RateDecision::Limited { retry_after } => {
            assert!(
                retry_after > ms(50_000) && retry_after <= ms(60_000),
                "{retry_after:?}"
            )
        }
        RateDecision::Allowed => panic!("the bucket is shared"),
    }
    // Other keys have their own bucket.
    let d = store.take_token("acct:t/b", ms(60_000), 1).await;
    assert_eq!(d.expect("store"), RateDecision::Allowed);
    // A fast bucket refills.
    for _ in 0..2 {
        let d = store.take_token("acct:t/c", ms(50), 2).await;
        assert_eq!(d.expect("store"), RateDecision::Allowed);
    }
    wait_for("the bucket to refill", Duration::from_secs(5), || async {
        (store.take_token("acct:t/c", ms(50), 2).await.ok() == Some(RateDecision::Allowed))
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn store_buckets_on_both_backends() {
    let dir = tempfile::tempdir().expect("tmp");
    let embedded = EmbeddedStore::open(&dir.path().join("s.redb")).expect("open");
    store_buckets_behave(&embedded, &embedded.clone()).await;

    let redis = RedisServer::start();
    let a = RedisStore::connect(&redis.url()).await.expect("redis");
    let b = RedisStore::connect(&redis.url()).await.expect("redis");
    store_buckets_behave(&a, &b).await;
    // Buckets expire once full again: nothing is left behind for long.
    let fast = Duration::from_millis(20);
    a.take_token("acct:t/d", fast, 1).await.expect("store");
    wait_for(
        "rate-limit keys to expire",
        Duration::from_secs(5),
        || async {
            (support::redis_server::cli(redis.port, &["EXISTS", "rl:acct:t/d"]).as_deref()
                == Some("0"))
            .then_some(())
        },
    )
    .await;
}
