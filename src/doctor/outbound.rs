//! Where the gateway connects out: the domains' relays and the NWC relays take connections, and
//! the registered webhooks post to public addresses.

use crate::config::Settings;

use super::{Options, Report, TIMEOUT, admin_client, probe};

/// The domains' relays (NIP-05 answers and zap receipts) take connections.
pub(super) async fn relays(settings: &Settings, report: &mut Report) {
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
pub(super) async fn nwc_relays(settings: &Settings, report: &mut Report) {
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
pub(super) async fn webhooks(
    settings: &Settings,
    options: &Options,
    running: bool,
    report: &mut Report,
) {
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
