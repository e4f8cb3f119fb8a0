//! The domains through the proxy: each domain's `public_url` answers `/.well-known/lnurlp/` with
//! exactly this gateway's answer (looked up for an account of the domain when the admin API lists
//! one), and the proxy's clock agrees with this one.

use std::time::SystemTime;

use crate::config::Settings;

use super::{MAX_SKEW_SECS, Options, Report, TIMEOUT, admin_client, now, probe};

/// The name looked up on each domain when no account of it is known.
const PROBE_NAME: &str = "lnaddr-doctor-probe";

/// Each domain's public URL answers the lookup exactly as this gateway does.
pub(super) async fn domains(
    settings: &Settings,
    options: &Options,
    running: bool,
    report: &mut Report,
) {
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
