//! `lnaddr doctor`: checks a configuration and the gateway it describes the way an operator would
//! ask, one line per finding with what to do. The config parses (or the CLI stops before this);
//! the store answers; the node answers, is synced, is on the expected network, and its macaroon
//! grants what lnaddr needs and nothing more (LND's `CheckMacaroonPermissions`); each domain's
//! `public_url` answers `/.well-known/lnurlp/` with exactly this gateway's answer (through the
//! proxy and its TLS); the domain relays and the NWC relays are reachable; the registered webhooks
//! post to public addresses; clocks agree.

pub mod probe;

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::config::{LightningBackend, Settings, StoreSettings};
use crate::lightning::LightningNode;
use crate::lightning::lnd::{LndConfig, LndNode, LndStartError, MacaroonCheck};
use crate::secret::Secret;

/// What lnaddr's calls need (docs/deploy.md, "The macaroon").
pub const REQUIRED_PERMISSIONS: &[(&str, &str)] = &[
    ("info", "read"),
    ("invoices", "read"),
    ("invoices", "write"),
    ("offchain", "read"),
    ("offchain", "write"),
];

/// Every other permission of LND's table; a macaroon for lnaddr should grant none of them.
pub const EXTRA_PERMISSIONS: &[(&str, &str)] = &[
    ("onchain", "read"),
    ("onchain", "write"),
    ("address", "read"),
    ("address", "write"),
    ("message", "read"),
    ("message", "write"),
    ("peers", "read"),
    ("peers", "write"),
    ("info", "write"),
    ("signer", "read"),
    ("signer", "generate"),
    ("macaroon", "read"),
    ("macaroon", "write"),
    ("macaroon", "generate"),
];

/// How long one network question may take.
const TIMEOUT: Duration = Duration::from_secs(8);
/// Clocks further apart than this are reported.
const MAX_SKEW_SECS: i64 = 60;
/// A chain tip older than this means the node (or this clock) is behind.
const MAX_TIP_AGE_SECS: i64 = 2 * 3600;
/// The name looked up on each domain when no account of it is known.
const PROBE_NAME: &str = "lnaddr-doctor-probe";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    pub what: String,
    /// What to do about it (none for `Ok`).
    pub todo: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        write!(f, "{tag} {}", self.what)?;
        if let Some(todo) = &self.todo {
            write!(f, " -> {todo}")?;
        }
        Ok(())
    }
}

/// What doctor is told besides the config.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The network the node must be on; default: bitcoin when a domain is served over https.
    pub network: Option<bitcoin::Network>,
    /// A macaroon with `macaroon:read` (LND's `readonly.macaroon`) to ask LND what lnaddr's
    /// macaroon grants, when lnaddr's own cannot ask (as it should not).
    pub check_macaroon: Option<PathBuf>,
    /// The admin token, to find an account per domain to look up.
    pub admin_token: Option<Secret>,
}

/// The findings, in the order they were made.
#[derive(Debug, Default)]
pub struct Report(pub Vec<Finding>);

impl Report {
    fn ok(&mut self, what: impl Into<String>) {
        self.push(Level::Ok, what, None::<String>);
    }

    fn warn(&mut self, what: impl Into<String>, todo: impl Into<String>) {
        self.push(Level::Warn, what, Some(todo));
    }

    fn fail(&mut self, what: impl Into<String>, todo: impl Into<String>) {
        self.push(Level::Fail, what, Some(todo));
    }

    fn push(&mut self, level: Level, what: impl Into<String>, todo: Option<impl Into<String>>) {
        self.0.push(Finding {
            level,
            what: what.into(),
            todo: todo.map(Into::into),
        });
    }

    /// Whether any finding failed.
    pub fn failed(&self) -> bool {
        self.0.iter().any(|f| f.level == Level::Fail)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.0 {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}

fn now() -> i64 {
    i64::try_from(crate::types::unix_now()).unwrap_or(i64::MAX)
}

/// Runs every check against `settings` (already parsed) and the gateway they describe.
pub async fn run(settings: &Settings, options: &Options) -> Report {
    let mut report = Report::default();
    for domain in crate::app::fake_node_on_https(settings) {
        report.warn(
            format!(
                "the fake Lightning node serves {domain} over https: its invoices cannot be paid"
            ),
            "set lightning.kind = \"lnd\" (docs/deploy.md)",
        );
    }
    let running = gateway(settings, &mut report).await;
    store(settings, running, &mut report).await;
    node(settings, options, &mut report).await;
    domains(settings, options, running, &mut report).await;
    relays(settings, &mut report).await;
    nwc_relays(settings, &mut report).await;
    webhooks(settings, options, running, &mut report).await;
    report
}

/// Whether a gateway answers on `listen`, and whether it says it is ready.
async fn gateway(settings: &Settings, report: &mut Report) -> bool {
    let base = format!("http://{}", settings.listen);
    match probe::get(&format!("{base}/readyz"), None, TIMEOUT).await {
        Ok(a) if a.status == 200 => {
            report.ok(format!(
                "a gateway answers on {} and is ready",
                settings.listen
            ));
            true
        }
        Ok(a) => {
            report.fail(
                format!(
                    "the gateway on {} is not ready ({}: {})",
                    settings.listen,
                    a.status,
                    String::from_utf8_lossy(&a.body).trim()
                ),
                "see below which of store and node does not answer, and the gateway's log",
            );
            true
        }
        Err(e) => {
            report.warn(
                format!("no gateway answers on {} ({e})", settings.listen),
                "start it (systemctl start lnaddr) to check the domains through the proxy",
            );
            false
        }
    }
}

async fn store(settings: &Settings, running: bool, report: &mut Report) {
    match &settings.store {
        StoreSettings::Embedded { path } if running => report.ok(format!(
            "embedded store {}: held by the running gateway",
            path.display()
        )),
        StoreSettings::Embedded { path } if !path.exists() => report.warn(
            format!("embedded store {} does not exist yet", path.display()),
            "lnaddr serve creates it on first start; check data_dir if you expected one",
        ),
        StoreSettings::Embedded { path } => {
            match crate::store::embedded::EmbeddedStore::open(path) {
                Ok(_) => report.ok(format!("embedded store {} opens", path.display())),
                Err(e) => report.fail(
                    format!("embedded store {} does not open: {e}", path.display()),
                    "check the file's owner (the service user) and mode; restore a backup if it is damaged",
                ),
            }
        }
        StoreSettings::Redis { .. } | StoreSettings::RedisCluster { .. } => {
            let store = crate::app::open_store(&settings.store).await;
            let answer = match store {
                Ok(s) => s.ping().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match answer {
                Ok(()) => report.ok("the Redis store answers"),
                Err(e) => report.fail(
                    format!("the Redis store does not answer: {e}"),
                    "check store.url, the password and the network path to Redis",
                ),
            }
        }
    }
}

async fn node(settings: &Settings, options: &Options, report: &mut Report) {
    let LightningBackend::Lnd {
        endpoint,
        tls_cert,
        macaroon,
        private_route_hints,
    } = &settings.lightning.backend
    else {
        report.ok("the fake Lightning node is configured (for trying lnaddr, not for money)");
        return;
    };
    let config = LndConfig {
        endpoint: endpoint.clone(),
        tls_cert: tls_cert.clone(),
        macaroon: macaroon.clone(),
        private_route_hints: *private_route_hints,
    };
    let lnd = match LndNode::connect(&config).await {
        Ok(lnd) => lnd,
        Err(e @ LndStartError::MacaroonRefused { .. }) => {
            return report.fail(
                e.to_string(),
                "bake a macaroon on this node for lnaddr (docs/deploy.md, \"The macaroon\")",
            );
        }
        Err(e) => {
            return report.fail(
                e.to_string(),
                "fix lightning.lnd (endpoint, tls_cert, macaroon)",
            );
        }
    };
    let status = match lnd.status().await {
        Ok(s) => s,
        Err(e) => {
            return report.fail(
                format!("LND at {endpoint} does not answer: {e}"),
                "is LND running and its wallet unlocked?",
            );
        }
    };
    report.ok(format!(
        "LND at {endpoint} answers (node {})",
        status.pubkey
    ));
    if status.synced {
        report.ok("LND is synced to the chain");
    } else {
        report.fail(
            "LND is not synced to the chain",
            "wait for LND to sync; invoices are refused meanwhile (/readyz answers 503)",
        );
    }
    let expected = options.network.or_else(|| {
        settings
            .domains
            .iter()
            .any(|d| d.public_url.starts_with("https://"))
            .then_some(bitcoin::Network::Bitcoin)
    });
    match (lnd.network().await, expected) {
        (Ok(n), Some(want)) if n != want => report.fail(
            format!("LND is on {n}, expected {want}"),
            "point lightning.lnd.endpoint at the node of the right network (or pass --network)",
        ),
        (Ok(n), _) => report.ok(format!("LND is on {n}")),
        (Err(e), _) => report.fail(
            format!("LND's network is unknown: {e}"),
            "check LND's GetInfo",
        ),
    }
    match lnd.chain_tip_time().await {
        Ok(tip) if tip - now() > MAX_SKEW_SECS => report.fail(
            format!(
                "LND's chain tip is {} s in this machine's future",
                tip - now()
            ),
            "this clock is behind: enable NTP (timedatectl set-ntp true)",
        ),
        Ok(tip) if now() - tip > MAX_TIP_AGE_SECS => report.warn(
            format!("LND's chain tip is {} min old", (now() - tip) / 60),
            "LND is behind the chain, or this clock is ahead: check LND's sync and NTP",
        ),
        Ok(_) => report.ok("LND's chain tip and this clock agree"),
        Err(e) => report.warn(format!("LND's chain tip: {e}"), "check LND's GetInfo"),
    }
    permissions(&config, options, &lnd, report).await;
}

/// The macaroon grants what lnaddr needs, and nothing more.
async fn permissions(config: &LndConfig, options: &Options, own: &LndNode, report: &mut Report) {
    let bytes = match std::fs::read(&config.macaroon) {
        Ok(b) => b,
        Err(e) => {
            return report.fail(
                format!("cannot read {}: {e}", config.macaroon.display()),
                "make it readable by the service user (mode 0600)",
            );
        }
    };
    let asker = match &options.check_macaroon {
        Some(path) => {
            let cfg = LndConfig {
                macaroon: path.clone(),
                ..config.clone()
            };
            match LndNode::new(&cfg) {
                Ok(node) => node,
                Err(e) => {
                    return report.fail(e.to_string(), "check --check-macaroon");
                }
            }
        }
        None => own.clone(),
    };
    let mut missing = Vec::new();
    for perm in REQUIRED_PERMISSIONS {
        match asker.macaroon_grants(&bytes, &[*perm]).await {
            Ok(MacaroonCheck::Granted) => {}
            Ok(MacaroonCheck::NotGranted(_)) => missing.push(format!("{}:{}", perm.0, perm.1)),
            Ok(MacaroonCheck::CannotAsk(_)) => {
                return report.ok(format!(
                    "{} cannot read macaroons (no macaroon:read, as it should be); to list what \
                     it grants, run doctor with --check-macaroon LND's readonly.macaroon",
                    config.macaroon.display()
                ));
            }
            Err(e) => {
                return report.warn(
                    format!("LND could not check the macaroon: {e}"),
                    "check it with lncli printmacaroon",
                );
            }
        }
    }
    if missing.is_empty() {
        report.ok(format!(
            "{} grants every permission lnaddr needs",
            config.macaroon.display()
        ));
    } else {
        report.fail(
            format!("{} lacks {}", config.macaroon.display(), missing.join(" ")),
            "bake it again with every permission of docs/deploy.md, \"The macaroon\"",
        );
    }
    let mut extra = Vec::new();
    for perm in EXTRA_PERMISSIONS {
        if let Ok(MacaroonCheck::Granted) = asker.macaroon_grants(&bytes, &[*perm]).await {
            extra.push(format!("{}:{}", perm.0, perm.1));
        }
    }
    if !extra.is_empty() {
        report.warn(
            format!(
                "{} also grants {} (more than lnaddr uses)",
                config.macaroon.display(),
                extra.join(" ")
            ),
            "bake one with only info:read invoices:read invoices:write offchain:read offchain:write",
        );
    }
}

/// Each domain's public URL answers the lookup exactly as this gateway does.
async fn domains(settings: &Settings, options: &Options, running: bool, report: &mut Report) {
    if !running {
        return;
    }
    let names = account_names(settings, options).await;
    for domain in &settings.domains {
        let user = names
            .iter()
            .find(|(d, _)| d == domain.name.as_str())
            .map_or(PROBE_NAME, |(_, u)| u.as_str());
        let path = format!("/.well-known/lnurlp/{user}");
        let local = probe::get(
            &format!("http://{}{path}", settings.listen),
            Some(domain.name.as_str()),
            TIMEOUT,
        )
        .await;
        let public = probe::get(&format!("{}{path}", domain.public_url), None, TIMEOUT).await;
        match (local, public) {
            (Ok(local), Ok(public))
                if local.status == public.status && local.body == public.body =>
            {
                report.ok(format!(
                    "{}: {}{path} answers with this gateway's answer",
                    domain.name, domain.public_url
                ));
                clock(domain.name.as_str(), &public, report);
            }
            (Ok(_), Ok(public)) => report.fail(
                format!(
                    "{}: {}{path} answers something else ({}: {})",
                    domain.name,
                    domain.public_url,
                    public.status,
                    excerpt(&public.body)
                ),
                format!(
                    "the proxy must forward /.well-known/lnurlp/ to {} with the original Host \
                     (docs/deploy.md, \"TLS: behind a reverse proxy\")",
                    settings.listen
                ),
            ),
            (_, Err(e)) => report.fail(
                format!(
                    "{}: {}{path} cannot be fetched: {e}",
                    domain.name, domain.public_url
                ),
                "check DNS, the proxy and its TLS certificate for this domain",
            ),
            (Err(e), _) => report.fail(
                format!(
                    "{}: the gateway's own answer cannot be fetched: {e}",
                    domain.name
                ),
                "check listen",
            ),
        }
    }
}

/// The `Date` of a public answer against this machine's clock.
fn clock(domain: &str, answer: &probe::Answer, report: &mut Report) {
    let Some(date) = answer
        .date
        .as_deref()
        .and_then(|d| httpdate::parse_http_date(d).ok())
    else {
        return;
    };
    let theirs = date
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let skew = theirs - now();
    if skew.abs() > MAX_SKEW_SECS {
        report.warn(
            format!("{domain}: the proxy's clock is {skew} s off this machine's"),
            "enable NTP on both (timedatectl set-ntp true); invoices and zaps carry times",
        );
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// The admin API client of the gateway `settings` describe, with the token doctor was given.
fn admin_client(
    settings: &Settings,
    options: &Options,
) -> Result<crate::client::AdminClient, crate::client::ClientError> {
    match &options.admin_token {
        Some(token) => crate::client::AdminClient::new(
            &format!("http://{}", settings.admin_listen),
            token.clone(),
        ),
        None => crate::client::AdminClient::from_settings(settings, None, None),
    }
}

/// (domain, user) of one account per domain, through the admin API when the token is at hand.
async fn account_names(settings: &Settings, options: &Options) -> Vec<(String, String)> {
    let Ok(client) = admin_client(settings, options) else {
        return Vec::new();
    };
    let Ok(accounts) = client.accounts(None).await else {
        return Vec::new();
    };
    accounts
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["address"].as_str())
        .filter_map(|a| a.split_once('@'))
        .map(|(user, domain)| (domain.to_string(), user.to_string()))
        .collect()
}

/// The domains' relays (NIP-05 answers and zap receipts) take connections.
async fn relays(settings: &Settings, report: &mut Report) {
    let mut seen = std::collections::BTreeSet::new();
    for relay in settings.domains.iter().flat_map(|d| d.relays.iter()) {
        if !seen.insert(relay.clone()) {
            continue;
        }
        match probe::relay_reachable(relay, TIMEOUT).await {
            Ok(()) => report.ok(format!("relay {relay} is reachable")),
            Err(e) => report.warn(
                format!("relay {relay} is not reachable: {e}"),
                "zap receipts still go to the zap request's relays; fix or remove it in [[domains]] relays",
            ),
        }
    }
}

/// The NWC relays (`[nwc] relays`) take connections: every connection listens and answers there,
/// so with none reachable no NWC client gets an answer.
async fn nwc_relays(settings: &Settings, report: &mut Report) {
    let relays = &settings.nwc.relays;
    let mut reachable = 0;
    for relay in relays {
        match probe::relay_reachable(relay, TIMEOUT).await {
            Ok(()) => {
                reachable += 1;
                report.ok(format!("NWC relay {relay} is reachable"));
            }
            Err(e) => report.warn(
                format!("NWC relay {relay} is not reachable: {e}"),
                "NWC clients using it get no answers; fix or remove it in [nwc] relays",
            ),
        }
    }
    if !relays.is_empty() && reachable == 0 {
        report.fail(
            "no NWC relay is reachable: Nostr Wallet Connect does not work",
            "set [nwc] relays to relays this host can reach (wss://...)",
        );
    }
}

/// The registered webhooks post to public addresses (the delivery refuses others unless
/// `webhooks.allow_private_addresses` is set); listed through the running gateway's admin API.
async fn webhooks(settings: &Settings, options: &Options, running: bool, report: &mut Report) {
    let allow_private = settings.webhooks.allow_private_addresses;
    if allow_private {
        report.warn(
            "webhooks.allow_private_addresses is on: webhooks may post into this host's network",
            "turn it off unless every webhook receiver is yours by design",
        );
    }
    if !running {
        return;
    }
    let Ok(client) = admin_client(settings, options) else {
        return;
    };
    let hooks = match client.webhooks().await {
        Ok(hooks) => hooks,
        Err(e) => {
            report.warn(
                format!("cannot list the webhooks: {e}"),
                "pass --token-file with the admin token to check them",
            );
            return;
        }
    };
    for hook in hooks.as_array().into_iter().flatten() {
        let (Some(id), Some(url)) = (hook["id"].as_str(), hook["url"].as_str()) else {
            continue;
        };
        match crate::webhooks::guard::check(url, false).await {
            Ok(_) => report.ok(format!("webhook {id} posts to a public address")),
            Err(crate::webhooks::guard::UrlRefused::NotPublic(ip)) if allow_private => {
                report.warn(
                    format!("webhook {id} posts to the non-public address {ip}"),
                    "allowed by webhooks.allow_private_addresses; remove it unless that receiver is yours",
                )
            }
            Err(e) => report.warn(
                format!("webhook {id} is not delivered: {e}"),
                format!("fix its host, or `lnaddr webhook remove {id}`"),
            ),
        }
    }
}
