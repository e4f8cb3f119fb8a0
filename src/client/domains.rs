//! Typed calls for domains as tenants (`lnaddr domain ...`, `lnaddr wellknown export`).

use hyper::Method;
use serde_json::{Map, Value, json};

use super::{AdminClient, ClientError, domain_path, enc};
use crate::secret::Secret;

/// A domain's keys as `lnaddr domain add|set` gives them; a key left `None` (or no relays) is not
/// sent, so `set` changes only what was given. The image is its bytes (sent base64), the zapper
/// key a [`Secret`] (redacted in `Debug`).
#[derive(Debug, Clone, Default)]
pub struct DomainFields {
    pub public_url: Option<String>,
    pub description: Option<String>,
    pub image: Option<Vec<u8>>,
    pub registration: Option<String>,
    pub min_sendable_msat: Option<u64>,
    pub max_sendable_msat: Option<u64>,
    pub comment_allowed: Option<u32>,
    pub relays: Vec<String>,
    pub nostr_secret_key: Option<Secret>,
}

impl DomainFields {
    /// The admin API's JSON body: only the keys given.
    fn body(&self) -> Map<String, Value> {
        use base64::Engine;
        let mut out = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                out.insert(key.to_string(), v);
            }
        };
        put("public_url", self.public_url.as_ref().map(|v| json!(v)));
        put("description", self.description.as_ref().map(|v| json!(v)));
        put(
            "image",
            self.image
                .as_ref()
                .map(|b| json!(base64::engine::general_purpose::STANDARD.encode(b))),
        );
        put("registration", self.registration.as_ref().map(|v| json!(v)));
        put(
            "min_sendable_msat",
            self.min_sendable_msat.map(|v| json!(v)),
        );
        put(
            "max_sendable_msat",
            self.max_sendable_msat.map(|v| json!(v)),
        );
        put("comment_allowed", self.comment_allowed.map(|v| json!(v)));
        put(
            "relays",
            (!self.relays.is_empty()).then(|| json!(self.relays)),
        );
        put(
            "nostr_secret_key",
            self.nostr_secret_key.as_ref().map(|k| json!(k.expose())),
        );
        out
    }
}

impl AdminClient {
    /// `POST /api/v1/domains`: the domain `name` with `fields` (`public_url` is required).
    pub async fn add_domain(
        &self,
        name: &str,
        fields: &DomainFields,
    ) -> Result<Value, ClientError> {
        let mut body = fields.body();
        body.insert("name".into(), json!(name));
        self.call(Method::POST, "/api/v1/domains", Some(body.into()))
            .await
    }

    /// `GET /api/v1/domains`
    pub async fn domains(&self) -> Result<Value, ClientError> {
        self.call(Method::GET, "/api/v1/domains", None).await
    }

    /// `GET /api/v1/domains/{name}`
    pub async fn domain(&self, name: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, &domain_path(name, ""), None).await
    }

    /// `PATCH /api/v1/domains/{name}`: each key given replaces the stored one.
    pub async fn change_domain(
        &self,
        name: &str,
        fields: &DomainFields,
    ) -> Result<Value, ClientError> {
        let body = fields.body();
        self.call(Method::PATCH, &domain_path(name, ""), Some(body.into()))
            .await
    }

    /// `DELETE /api/v1/domains/{name}` (refused while it has accounts).
    pub async fn remove_domain(&self, name: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, &domain_path(name, ""), None)
            .await
            .map(drop)
    }

    /// `POST /api/v1/domains/{name}/tokens`: `{"id","token",...}`, the token shown this once.
    pub async fn create_domain_token(
        &self,
        name: &str,
        label: Option<&str>,
    ) -> Result<Value, ClientError> {
        let body = serde_json::json!({ "label": label });
        self.call(Method::POST, &domain_path(name, "/tokens"), Some(body))
            .await
    }

    /// `GET /api/v1/domains/{name}/tokens` (ids and labels, never the tokens).
    pub async fn domain_tokens(&self, name: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, &domain_path(name, "/tokens"), None)
            .await
    }

    /// `DELETE /api/v1/tokens/{id}`
    pub async fn revoke_token(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/tokens/{}", enc(id));
        self.call(Method::DELETE, &path, None).await.map(drop)
    }

    /// `GET /api/v1/domains/{name}/wellknown`: the static files of the domain, path → contents.
    pub async fn wellknown_files(
        &self,
        name: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, ClientError> {
        let answer = self
            .call(Method::GET, &domain_path(name, "/wellknown"), None)
            .await?;
        serde_json::from_value(answer["files"].clone()).map_err(|e| ClientError::Api {
            status: 200,
            reason: format!("unexpected answer: {e}"),
        })
    }
}
