//! Typed calls for the gateway as a whole: webhooks (`lnaddr webhook ...`), backups of the
//! embedded store (`lnaddr backup`) and the fake node's controls (`lnaddr fake pay`).

use std::path::Path;

use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use super::transport::api_error;
use super::{AdminClient, ClientError, enc};

impl AdminClient {
    /// `POST /api/v1/webhooks`: answers its id and its signing secret (shown this once).
    pub async fn add_webhook(
        &self,
        url: &str,
        events: &[String],
        domain: Option<&str>,
    ) -> Result<Value, ClientError> {
        let body = json!({"url": url, "events": events, "domain": domain});
        self.call(Method::POST, "/api/v1/webhooks", Some(body))
            .await
    }

    /// `GET /api/v1/webhooks` (without secrets).
    pub async fn webhooks(&self) -> Result<Value, ClientError> {
        self.call(Method::GET, "/api/v1/webhooks", None).await
    }

    /// `DELETE /api/v1/webhooks/{id}`.
    pub async fn remove_webhook(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/webhooks/{}", enc(id));
        self.call(Method::DELETE, &path, None).await.map(drop)
    }

    /// `POST /api/v1/fake/pay` (fake node only).
    pub async fn fake_pay(&self, invoice: &str) -> Result<Value, ClientError> {
        let body = json!({"invoice": invoice});
        self.call(Method::POST, "/api/v1/fake/pay", Some(body))
            .await
    }

    /// `GET /api/v1/backup`: a consistent snapshot of the gateway's embedded store (redb file).
    pub async fn backup(&self) -> Result<Bytes, ClientError> {
        let (status, body) = self.send(Method::GET, "/api/v1/backup", None).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(api_error(status, &body))
        }
    }

    /// Saves [`AdminClient::backup`] to `out` (mode 0600): written beside it, fsynced, then
    /// renamed, so `out` is either the previous file or the whole new snapshot. Answers its size.
    pub async fn backup_to(&self, out: &Path) -> Result<u64, ClientError> {
        let bytes = self.backup().await?;
        let file_err = |source| ClientError::File {
            path: out.display().to_string(),
            source,
        };
        let tmp = out.with_extension("partial");
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&tmp).and_then(|mut f| {
            std::io::Write::write_all(&mut f, &bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, out)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(file_err(e));
        }
        Ok(bytes.len() as u64)
    }
}
