//! One admin request on the wire: HTTP/1.1 over a fresh TCP connection with the bearer token;
//! a 2xx answers its JSON body (or text), anything else becomes [`ClientError::Api`] with the
//! answer's `reason`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use super::{AdminClient, ClientError};

impl AdminClient {
    /// Sends one request; answers the JSON body of a 2xx (or `null` for 204).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        let (status, body) = self.send(method, path, body).await?;
        if status.is_success() {
            Ok(json_or_text(&body))
        } else {
            Err(api_error(status, &body))
        }
    }

    /// Sends one request; answers the status and the whole body.
    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(hyper::StatusCode, Bytes), ClientError> {
        let host = self.base.host_str().ok_or(ClientError::BadUrl)?;
        let port = self
            .base
            .port_or_known_default()
            .ok_or(ClientError::BadUrl)?;
        let stream =
            TcpStream::connect((host, port))
                .await
                .map_err(|source| ClientError::Connect {
                    url: self.base.to_string(),
                    source,
                })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ClientError::Http)?;
        tokio::spawn(conn);
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, format!("{host}:{port}"))
            .header(AUTHORIZATION, format!("Bearer {}", self.token.expose()))
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|_| ClientError::BadUrl)?;
        let resp = sender.send_request(req).await.map_err(ClientError::Http)?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(ClientError::Http)?
            .to_bytes();
        Ok((status, body))
    }
}

fn json_or_text(body: &[u8]) -> Value {
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
    }
}

pub(super) fn api_error(status: hyper::StatusCode, body: &[u8]) -> ClientError {
    let value = json_or_text(body);
    let reason = value
        .get("reason")
        .and_then(|r| r.as_str())
        .map_or_else(|| value.to_string(), str::to_string);
    ClientError::Api {
        status: status.as_u16(),
        reason,
    }
}
