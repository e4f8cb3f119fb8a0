//! Typed calls for domains as tenants (`lnaddr domain ...`, `lnaddr wellknown export`).

use hyper::Method;
use serde_json::Value;

use super::{AdminClient, ClientError, domain_path, enc};

impl AdminClient {
    /// `POST /api/v1/domains`: `domain` holds `name`, `public_url` and any other domain keys.
    pub async fn add_domain(&self, domain: Value) -> Result<Value, ClientError> {
        self.call(Method::POST, "/api/v1/domains", Some(domain))
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

    /// `PATCH /api/v1/domains/{name}`: each key replaces the stored one, `null` clears it.
    pub async fn change_domain(&self, name: &str, patch: Value) -> Result<Value, ClientError> {
        self.call(Method::PATCH, &domain_path(name, ""), Some(patch))
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
