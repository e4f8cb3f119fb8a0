//! The webhook operations of the admin API and the CLI: register (URL checked by the guard, a
//! secret made and shown once), list (never the secret), remove.

use serde::Serialize;

use super::{Error, Gateway, Refusal};
use crate::store::StoreError;
use crate::store::webhooks::{EventType, Webhook};
use crate::types::unix_now;
use crate::webhooks::guard;

/// A webhook as the admin API shows it; `secret` only in the answer that creates it.
#[derive(Debug, Serialize)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<EventType>,
    pub domain: Option<String>,
    pub created_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn new(w: &Webhook, with_secret: bool) -> Self {
        WebhookView {
            id: w.id.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            domain: w.domain.clone(),
            created_at: w.created_at,
            secret: with_secret.then(|| w.secret.clone()),
        }
    }
}

impl Gateway {
    /// Registers a webhook for `events` (all three when empty), for every domain or one.
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[String],
        domain: Option<&str>,
    ) -> Result<WebhookView, Error> {
        if url.len() > 2048 {
            return Err(Refusal::WebhookUrlTooLong.into());
        }
        let allow_private = self.settings.webhooks.allow_private_addresses;
        let (parsed, _) = guard::check(url, allow_private)
            .await
            .map_err(Refusal::from)?;
        let mut kinds = Vec::new();
        for e in events {
            let kind = EventType::parse(e).ok_or_else(|| Refusal::UnknownEventType(e.clone()))?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            kinds = EventType::ALL.to_vec();
        }
        let domain = match domain {
            Some(d) => Some(
                self.domain_named(&d.to_ascii_lowercase())?
                    .name
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let webhook = Webhook {
            id: format!("wh_{}", hex::encode(rand::random::<[u8; 12]>())),
            url: parsed.to_string(),
            events: kinds,
            domain,
            secret: format!("whsec_{}", hex::encode(rand::random::<[u8; 32]>())),
            created_at: unix_now(),
        };
        self.store.create_webhook(&webhook).await?;
        tracing::info!(webhook = %webhook.id, events = ?webhook.events, domain = ?webhook.domain, "webhook registered");
        Ok(WebhookView::new(&webhook, true))
    }

    /// Every webhook, without secrets; with `only_domain`, just that domain's (what a domain
    /// token sees: never the gateway-wide ones, nor another domain's).
    pub async fn webhooks(&self, only_domain: Option<&str>) -> Result<Vec<WebhookView>, Error> {
        let all = self.store.webhooks().await?;
        Ok(all
            .iter()
            .filter(|w| only_domain.is_none() || w.domain.as_deref() == only_domain)
            .map(|w| WebhookView::new(w, false))
            .collect())
    }

    /// Removes a webhook; 404 when there is none with that id (or, with `only_domain`, none of
    /// that domain: another domain's webhook is not even confirmed to exist).
    pub async fn delete_webhook(&self, id: &str, only_domain: Option<&str>) -> Result<(), Error> {
        if let Some(domain) = only_domain {
            let all = self.store.webhooks().await?;
            if !all
                .iter()
                .any(|w| w.id == id && w.domain.as_deref() == Some(domain))
            {
                return Err(Error::Store(StoreError::NotFound));
            }
        }
        if !self.store.delete_webhook(id).await? {
            return Err(Error::Store(StoreError::NotFound));
        }
        tracing::info!(webhook = %id, "webhook removed");
        Ok(())
    }
}
