//! `[webhooks]`: signed event deliveries (docs/webhooks.md).

use serde::Deserialize;

/// `[webhooks]`: signed event deliveries (docs/webhooks.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    /// Webhook URLs on loopback/private addresses (the relay guard's rule); true for local tests.
    pub allow_private_addresses: Option<bool>,
}

/// Webhook deliveries.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// Let webhook URLs name loopback/private addresses (SSRF guard off; tests only).
    pub allow_private_addresses: bool,
}

pub fn webhook_settings(raw: RawWebhooks) -> WebhookSettings {
    WebhookSettings {
        allow_private_addresses: raw.allow_private_addresses.unwrap_or(false),
    }
}
