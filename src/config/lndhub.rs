//! `[lndhub]`: the LndHub API's token lifetimes, how long `payinvoice` waits for a final state, and
//! the rate limits of logins and of `/create`. BlueWallet logs in again after 2 hours and refreshes
//! for 7 days, so access tokens last at least 2 hours and refresh tokens at least 7 days.

use std::time::Duration;

use serde::Deserialize;

use super::{Rate, check_range};

/// Access tokens: 2 days (lndhub.go's default).
pub const DEFAULT_ACCESS_TOKEN_SECS: u64 = 2 * 24 * 3600;
/// Refresh tokens: 14 days.
pub const DEFAULT_REFRESH_TOKEN_SECS: u64 = 14 * 24 * 3600;
const MIN_ACCESS_TOKEN_SECS: u64 = 2 * 3600;
const MIN_REFRESH_TOKEN_SECS: u64 = 7 * 24 * 3600;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLndhub {
    pub access_token_secs: Option<u64>,
    pub refresh_token_secs: Option<u64>,
    /// How long `payinvoice` waits for a final state before answering 503 (still in flight).
    pub payment_wait_secs: Option<u64>,
    /// Login attempts (`/auth`) per client IP and per login, per minute.
    pub auth_per_minute: Option<u32>,
    pub auth_burst: Option<u32>,
    /// Accounts `/create` makes per client IP and hour (`registration = "open"` or `"invite"`).
    pub create_per_hour: Option<u32>,
    pub create_burst: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct LndhubSettings {
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub payment_wait: Duration,
    pub auth: Rate,
    /// One token every `create_interval`, at most `create_burst` held.
    pub create_interval: Duration,
    pub create_burst: u32,
}

impl Default for LndhubSettings {
    fn default() -> Self {
        lndhub_settings(RawLndhub::default(), &mut Vec::new())
    }
}

/// Validates `[lndhub]`, adding what is wrong to `problems`.
pub fn lndhub_settings(raw: RawLndhub, problems: &mut Vec<String>) -> LndhubSettings {
    let access = raw.access_token_secs.unwrap_or(DEFAULT_ACCESS_TOKEN_SECS);
    if access < MIN_ACCESS_TOKEN_SECS {
        problems.push(format!(
            "lndhub.access_token_secs must be at least {MIN_ACCESS_TOKEN_SECS} (BlueWallet keeps an access token 2 hours)"
        ));
    }
    let refresh = raw.refresh_token_secs.unwrap_or(DEFAULT_REFRESH_TOKEN_SECS);
    if refresh < MIN_REFRESH_TOKEN_SECS {
        problems.push(format!(
            "lndhub.refresh_token_secs must be at least {MIN_REFRESH_TOKEN_SECS} (BlueWallet refreshes for 7 days)"
        ));
    }
    let wait = raw.payment_wait_secs.unwrap_or(20);
    check_range(problems, "lndhub.payment_wait_secs", wait, 1..=600);
    let auth = Rate {
        per_minute: raw.auth_per_minute.unwrap_or(10),
        burst: raw.auth_burst.unwrap_or(10),
    };
    if auth.per_minute == 0 || auth.burst == 0 {
        problems.push("lndhub.auth_per_minute and lndhub.auth_burst must be at least 1".into());
    }
    let create_per_hour = raw.create_per_hour.unwrap_or(10);
    let create_burst = raw.create_burst.unwrap_or(3);
    if create_per_hour == 0 || create_burst == 0 {
        problems.push("lndhub.create_per_hour and lndhub.create_burst must be at least 1".into());
    }
    LndhubSettings {
        access_token_ttl: Duration::from_secs(access),
        refresh_token_ttl: Duration::from_secs(refresh),
        payment_wait: Duration::from_secs(wait),
        auth,
        create_interval: Duration::from_secs(3600) / create_per_hour.max(1),
        create_burst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Registration, Settings};

    #[test]
    fn defaults_cover_bluewallet_and_short_lifetimes_are_refused() {
        let s = LndhubSettings::default();
        assert!(s.access_token_ttl >= Duration::from_secs(2 * 3600));
        assert!(s.refresh_token_ttl >= Duration::from_secs(7 * 24 * 3600));
        let mut problems = Vec::new();
        lndhub_settings(
            RawLndhub {
                access_token_secs: Some(3600),
                refresh_token_secs: Some(3600),
                ..RawLndhub::default()
            },
            &mut problems,
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn the_example_config_parses_with_registration() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/lnaddr.example.toml");
        let s = Settings::load(Some(&path), Vec::new()).expect("example config");
        assert_eq!(s.domains[0].registration, Registration::Closed);
        assert_eq!(s.lndhub.payment_wait, Duration::from_secs(20));
        let open = Settings::load(
            None,
            vec![(
                "LNADDR_DOMAINS".into(),
                r#"[{name="example.com", registration="open"}]"#.into(),
            )],
        )
        .expect("open");
        assert_eq!(open.domains[0].registration, Registration::Open);
        assert!(
            Settings::load(
                None,
                vec![(
                    "LNADDR_DOMAINS".into(),
                    r#"[{name="example.com", registration="anyone"}]"#.into(),
                )],
            )
            .is_err()
        );
    }
}
