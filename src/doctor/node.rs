//! The Lightning node: LND answers, is synced, is on the expected network, its chain tip agrees
//! with this clock, and its macaroon grants what lnaddr needs and nothing more (LND's
//! `CheckMacaroonPermissions`, asked with `--check-macaroon` when lnaddr's own macaroon may not).

use crate::config::{LightningBackend, Settings};
use crate::lightning::LightningNode;
use crate::lightning::lnd::{LndConfig, LndNode, LndStartError, MacaroonCheck};

use super::{MAX_SKEW_SECS, Options, Report, now};

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

/// A chain tip older than this means the node (or this clock) is behind.
const MAX_TIP_AGE_SECS: i64 = 2 * 3600;

/// LND answers, is synced, is on the expected network and agrees with this clock; then its
/// macaroon's permissions. The fake node is only named.
pub(super) async fn node(settings: &Settings, options: &Options, report: &mut Report) {
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
