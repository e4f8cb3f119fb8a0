//! Rate limits of the public listener, keyed on the path prefix so routes added later are covered:
//! token buckets per client IP for lookups, tighter ones per client IP for the callbacks that
//! create invoices (`/lnurlp/*/callback`) or pay withdrawals (`/lnurlw/*/callback`), and a bucket
//! per account (per link for withdrawals) kept in the store, so that with Redis it holds across
//! every gateway process. Per-IP buckets live in memory with a bounded number of clients.

use std::net::IpAddr;
use std::time::Duration;

use sha2::Digest;

use super::client_ip::bucket_key;
use super::segments;
use crate::config::LimitSettings;
use crate::gateway::Gateway;
use crate::ratelimit::{MemoryBuckets, RateDecision};
use crate::types::TaggedName;

/// Which budget a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Health checks are never limited (monitoring and load balancers poll them).
    Exempt,
    /// Reads: lookups, verify, NIP-05, withdraw pages, anything unknown.
    Lookup,
    /// Invoice-creating or withdraw callbacks, with the per-account bucket they also draw on.
    Callback(AccountBucket),
}

/// The per-account bucket of a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountBucket {
    /// `/lnurlp/{name}/callback`: the name as written (tag included); resolved with the Host.
    Pay(String),
    /// `/d/{domain}/lnurlp/{name}/callback`: the same on a domain the path names.
    PayOn(String, String),
    /// `/lnurlw/{k1}/callback`: the withdraw link.
    Withdraw(String),
}

/// Classifies a request path and names its route template (for answers given before routing).
pub fn classify(path: &str) -> (Class, &'static str) {
    let Some(segs) = segments(path) else {
        return (Class::Lookup, "other");
    };
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["lnurlp", user, "callback"] => (
            Class::Callback(AccountBucket::Pay(user.to_string())),
            "/lnurlp/{username}/callback",
        ),
        ["d", domain, "lnurlp", user, "callback"] => (
            Class::Callback(AccountBucket::PayOn(domain.to_string(), user.to_string())),
            "/lnurlp/{username}/callback",
        ),
        ["lnurlw", k1, "callback"] => (
            Class::Callback(AccountBucket::Withdraw(k1.to_string())),
            "/lnurlw/{k1}/callback",
        ),
        ["healthz"] => (Class::Exempt, "/healthz"),
        ["readyz"] => (Class::Exempt, "/readyz"),
        [".well-known", "lnurlp", _] => (Class::Lookup, "/.well-known/lnurlp/{username}"),
        [".well-known", "nostr.json"] => (Class::Lookup, "/.well-known/nostr.json"),
        ["lnurlp", _, "verify", _] => (Class::Lookup, "/lnurlp/{username}/verify/{payment_hash}"),
        ["d", _, ".well-known", "lnurlp", _] => (Class::Lookup, "/.well-known/lnurlp/{username}"),
        ["d", _, ".well-known", "nostr.json"] => (Class::Lookup, "/.well-known/nostr.json"),
        ["d", _, "lnurlp", _, "verify", _] => {
            (Class::Lookup, "/lnurlp/{username}/verify/{payment_hash}")
        }
        ["lnurlw", _] => (Class::Lookup, "/lnurlw/{k1}"),
        ["withdraw", ..] => (Class::Lookup, "/withdraw/{k1}"),
        // LndHub: logins and `/create` have their own limits (`[lndhub]`) on top.
        ["lndhub", ..] => (Class::Lookup, "/lndhub"),
        _ => (Class::Lookup, "other"),
    }
}

/// The public listener's limiter.
pub struct RateLimiter {
    settings: LimitSettings,
    lookup: MemoryBuckets<IpAddr>,
    callback: MemoryBuckets<IpAddr>,
}

impl RateLimiter {
    pub fn new(settings: &LimitSettings) -> Self {
        RateLimiter {
            settings: settings.clone(),
            lookup: MemoryBuckets::new(settings.max_tracked_clients),
            callback: MemoryBuckets::new(settings.max_tracked_clients),
        }
    }

    /// Counts a request of `class` from `client` for `host`; answers how long to wait when it is
    /// over a limit. A store that cannot be reached lets the request through (the request itself
    /// will then meet the same store and answer 503).
    pub async fn check(
        &self,
        gw: &Gateway,
        class: &Class,
        client: IpAddr,
        host: Option<&str>,
    ) -> Option<Duration> {
        if !self.settings.enabled {
            return None;
        }
        let key = bucket_key(client);
        match class {
            Class::Exempt => None,
            Class::Lookup => limited(self.lookup.take(
                key,
                self.settings.lookup.interval(),
                self.settings.lookup.burst,
            )),
            Class::Callback(account) => {
                let rate = self.settings.callback;
                if let Some(wait) = limited(self.callback.take(key, rate.interval(), rate.burst)) {
                    return Some(wait);
                }
                let bucket = account_key(gw, account, host)?;
                let rate = self.settings.account_callback;
                match gw
                    .take_rate_token(&bucket, rate.interval(), rate.burst)
                    .await
                {
                    Ok(decision) => limited(decision),
                    Err(e) => {
                        tracing::warn!(error = %e, "rate-limit store unavailable; not limiting");
                        None
                    }
                }
            }
        }
    }
}

fn limited(decision: RateDecision) -> Option<Duration> {
    match decision {
        RateDecision::Allowed => None,
        RateDecision::Limited { retry_after } => Some(retry_after),
    }
}

/// The store bucket of a callback: `acct:<domain>/<user>` or `link:<sha256(k1) prefix>` (a link's
/// k1 is a bearer secret and stays out of key names). `None` for names that cannot exist; the
/// handler answers those without creating anything.
fn account_key(gw: &Gateway, bucket: &AccountBucket, host: Option<&str>) -> Option<String> {
    match bucket {
        AccountBucket::Pay(name) => {
            let domain = gw.domain_for_host(host).ok()?;
            let tagged = TaggedName::parse(name).ok()?;
            Some(format!("acct:{}/{}", domain.name, tagged.username))
        }
        AccountBucket::PayOn(named, name) => {
            let domain = gw.domain_for(host, Some(named)).ok()?;
            let tagged = TaggedName::parse(name).ok()?;
            Some(format!("acct:{}/{}", domain.name, tagged.username))
        }
        AccountBucket::Withdraw(k1) => {
            let digest = sha2::Sha256::digest(k1.as_bytes());
            Some(format!("link:{}", hex::encode(&digest[..16])))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_found_by_prefix() {
        assert_eq!(
            classify("/lnurlp/Alice+tip/callback").0,
            Class::Callback(AccountBucket::Pay("Alice+tip".into()))
        );
        assert_eq!(
            classify("/lnurlw/abc/callback").0,
            Class::Callback(AccountBucket::Withdraw("abc".into()))
        );
        assert_eq!(
            classify("/d/example.org/lnurlp/bob/callback"),
            (
                Class::Callback(AccountBucket::PayOn("example.org".into(), "bob".into())),
                "/lnurlp/{username}/callback"
            ),
            "a callback on a named domain draws on the same account bucket"
        );
        assert_eq!(classify("/healthz").0, Class::Exempt);
        assert_eq!(classify("/.well-known/lnurlp/bob").0, Class::Lookup);
        assert_eq!(classify("/%ff").0, Class::Lookup);
        assert_eq!(classify("/withdraw/k/qr.svg").1, "/withdraw/{k1}");
    }
}
