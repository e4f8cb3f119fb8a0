//! TLS to LND. LND's self-signed certificate is marked `CA:TRUE`, which rustls (rightly) refuses as
//! an end-entity certificate (`CaUsedAsEndEntity`, lnd issue #5450), so the usual "trust this CA"
//! setup fails against a real LND. [`PinnedCertVerifier`] accepts exactly the configured
//! certificate (same DER bytes) and otherwise verifies the chain with the configured file as the
//! trust anchor (a certificate issued by a real CA); handshake signatures are always verified.
//! [`connector`] dials TCP, runs TLS with ALPN `h2` and hands the stream to tonic, which is given
//! an `http://` URI (tonic refuses `https://` together with a custom connector).

use std::path::Path;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;

/// Reads the certificates of a PEM file (or a single DER certificate).
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let pem: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&bytes).collect();
    match pem {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        Ok(_) if bytes.first() == Some(&0x30) => Ok(vec![CertificateDer::from(bytes)]),
        Ok(_) => Err("no certificate found in the file".into()),
        Err(e) => Err(format!("not a PEM certificate file: {e}")),
    }
}

/// Accepts the pinned certificate itself, or a chain that leads to it as a root.
#[derive(Debug)]
pub struct PinnedCertVerifier {
    pinned: Vec<CertificateDer<'static>>,
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl PinnedCertVerifier {
    pub fn new(pinned: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> Self {
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(pinned.iter().cloned());
        let chain = (added > 0)
            .then(|| {
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .ok()
            })
            .flatten();
        PinnedCertVerifier {
            pinned,
            chain,
            provider,
        }
    }
}

impl ServerCertVerifier for PinnedCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.chain {
            Some(chain) => {
                chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client configuration that trusts `pinned` and speaks HTTP/2.
pub fn client_config(pinned: Vec<CertificateDer<'static>>) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedCertVerifier::new(pinned, provider.clone()));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Where LND listens: `host:port` and the name the TLS handshake presents.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub server_name: ServerName<'static>,
}

impl Target {
    /// Parses `https://host:port`, `host:port` or `host` (port 10009, LND's default).
    pub fn parse(endpoint: &str) -> Result<Target, String> {
        let rest = endpoint
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') {
            return Err("expected https://HOST:PORT".into());
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && (!h.contains(':') || h.starts_with('[')) => {
                (h, p.parse::<u16>().map_err(|_| format!("bad port {p:?}"))?)
            }
            _ => (rest, 10009),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let server_name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
        Ok(Target {
            host,
            port,
            server_name,
        })
    }

    /// The URI tonic is given; the connector does the TLS.
    pub fn http_uri(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }
}

/// A tower service that tonic calls for every (re)connection; TCP and TLS together get `timeout`.
pub fn connector(
    target: Target,
    config: Arc<ClientConfig>,
    timeout: std::time::Duration,
) -> impl tower::Service<
    http::Uri,
    Response = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>,
    Error = std::io::Error,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    let tls = tokio_rustls::TlsConnector::from(config);
    tower::service_fn(move |_uri: http::Uri| {
        let tls = tls.clone();
        let target = target.clone();
        async move {
            let connect = async {
                let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
                tcp.set_nodelay(true)?;
                tls.connect(target.server_name.clone(), tcp).await
            };
            match tokio::time::timeout(timeout, connect).await {
                Ok(stream) => Ok(TokioIo::new(stream?)),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connecting to LND timed out",
                )),
            }
        }
    })
}

/// Whether `err` (or one of its causes) is a refused server certificate.
pub fn is_certificate_error(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(rustls::Error::InvalidCertificate(c)) = e.downcast_ref::<rustls::Error>() {
            return Some(format!("{c:?}"));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(rustls::Error::InvalidCertificate(c)) =
                io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(format!("{c:?}"));
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let t = Target::parse("https://127.0.0.1:10009").expect("parse");
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 10009));
        assert_eq!(t.http_uri(), "http://127.0.0.1:10009");
        let t = Target::parse("lnd.local").expect("parse");
        assert_eq!((t.host.as_str(), t.port), ("lnd.local", 10009));
        let t = Target::parse("https://[::1]:10010/").expect("parse");
        assert_eq!((t.host.as_str(), t.port), ("::1", 10010));
        assert_eq!(t.http_uri(), "http://[::1]:10010");
        assert!(Target::parse("https://host:notaport").is_err());
        assert!(Target::parse("").is_err());
    }

    fn params(ca: bool) -> rcgen::CertificateParams {
        let mut p = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        if ca {
            p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        }
        p
    }

    fn verify(v: &PinnedCertVerifier, cert: &CertificateDer<'_>, name: &str) -> bool {
        let name = ServerName::try_from(name.to_string()).expect("name");
        v.verify_server_cert(cert, &[], &name, &[], UnixTime::now())
            .is_ok()
    }

    #[test]
    fn pinned_lnd_style_ca_certificate_is_accepted_and_others_are_not() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rcgen::KeyPair::generate().expect("key");
        let lnd = params(true).self_signed(&key).expect("cert");
        let other = params(true).self_signed(&key).expect("cert");
        let v = PinnedCertVerifier::new(vec![lnd.der().clone()], provider);
        assert!(verify(&v, lnd.der(), "localhost"));
        // The same key and names, but not the configured certificate.
        assert!(!verify(&v, other.der(), "localhost"));
    }

    #[test]
    fn a_certificate_issued_by_the_configured_ca_is_verified_as_a_chain() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let ca_params = params(true);
        let ca = ca_params.clone().self_signed(&ca_key).expect("ca");
        let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
        let leaf_key = rcgen::KeyPair::generate().expect("key");
        let leaf = params(false).signed_by(&leaf_key, &issuer).expect("leaf");
        let v = PinnedCertVerifier::new(vec![ca.der().clone()], provider);
        assert!(verify(&v, leaf.der(), "localhost"));
        assert!(!verify(&v, leaf.der(), "lnd.example.com"));
    }
}
