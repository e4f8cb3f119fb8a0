//! `GET /api/v1/backup` (admin): a consistent snapshot of the store, made by the running gateway
//! from one read transaction ([`Gateway::snapshot`]) into a private temporary file
//! under `data_dir`, then sent as the answer's body (`lnaddr backup --out FILE` saves it; `lnaddr
//! restore FILE` puts it back). The Redis store answers 501: Redis has its own persistence.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use super::Answer;
use crate::gateway::Gateway;

/// Makes the snapshot and answers it; the temporary file is gone when this returns.
pub async fn backup(gw: &Gateway) -> Answer {
    let dir = &gw.settings().data_dir;
    if let Err(e) = tokio::fs::create_dir_all(dir).await {
        tracing::error!(error = %e, "backup: cannot create data_dir");
    }
    let tmp = dir.join(format!(
        "backup-{}.redb.tmp",
        hex::encode(rand::random::<[u8; 8]>())
    ));
    let made = gw.snapshot(&tmp).await;
    let bytes = match made {
        Ok(()) => tokio::fs::read(&tmp).await.map_err(|e| {
            tracing::error!(error = %e, "backup: cannot read the snapshot back");
        }),
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e.into());
        }
    };
    let _ = tokio::fs::remove_file(&tmp).await;
    let Ok(bytes) = bytes else {
        return Ok(super::error::error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        ));
    };
    tracing::info!(bytes = bytes.len(), "backup: snapshot sent");
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    resp.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"lnaddr-backup.redb\""),
    );
    Ok(resp)
}
