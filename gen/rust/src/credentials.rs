//! Transport security and tokens, for [`Client::connect_with`](crate::Client::connect_with).
//!
//! A server started with `--tls-cert/--tls-key` speaks TLS only; one started
//! with `--tls-client-ca` also asks for a client certificate (mutual TLS);
//! one started with `--tokens-file` wants `authorization: Bearer TOKEN` on
//! every call. [`Credentials`] names the PEM files and the token; the TLS
//! part becomes a rustls [`ClientTlsConfig`], the token a [`BearerToken`]
//! interceptor, so unary calls and streams all carry it. With no CA file the
//! connection stays plaintext (fine on loopback): this crate ships no
//! system roots, so TLS always needs the CA that signed the server's
//! certificate.

use std::fmt;
use std::path::{Path, PathBuf};

use tonic::Code;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use crate::Error;

/// The request header that carries the token.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// What a client proves itself with: PEM files for TLS and a bearer token.
/// Every part is optional; the default is plaintext without a token.
#[derive(Clone, Default)]
pub struct Credentials {
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    token: Option<String>,
}

impl Credentials {
    /// Plaintext, no token; add parts with the methods below.
    pub fn new() -> Self {
        Self::default()
    }

    /// TLS, trusting the CA certificate(s) in this PEM file to have signed
    /// the server's certificate.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// For mutual TLS: this client's certificate (PEM; with
    /// [`Credentials::key_file`]).
    pub fn cert_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert_file = Some(path.into());
        self
    }

    /// For mutual TLS: the private key of [`Credentials::cert_file`] (PEM).
    pub fn key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.key_file = Some(path.into());
        self
    }

    /// A token sent as `authorization: Bearer TOKEN` on every call; an
    /// empty one sends nothing.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into()).filter(|t| !t.is_empty());
        self
    }

    /// Whether the connection uses TLS (a CA file is set).
    pub fn is_tls(&self) -> bool {
        self.ca_file.is_some()
    }

    /// The rustls configuration, read from the files now; `None` for plaintext.
    pub(crate) fn tls_config(&self) -> Result<Option<ClientTlsConfig>, Error> {
        let Some(ca_file) = &self.ca_file else {
            if self.cert_file.is_some() || self.key_file.is_some() {
                return Err(invalid(
                    "a client certificate needs a CA file too (ca_file): TLS trusts only the CA \
                     it is given",
                ));
            }
            return Ok(None);
        };
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca_file)?));
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => {
                tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?))
            }
            (None, None) => {}
            _ => {
                return Err(invalid(
                    "cert_file and key_file go together (a client certificate and its key)",
                ));
            }
        }
        Ok(Some(tls))
    }

    /// The interceptor that sends the token (or nothing).
    pub(crate) fn bearer_token(&self) -> Result<BearerToken, Error> {
        match &self.token {
            Some(token) => BearerToken::new(token),
            None => Ok(BearerToken::default()),
        }
    }
}

/// Shows which parts are set, never the token.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A tonic interceptor adding `authorization: Bearer TOKEN` to every
/// request, unary or streaming (or nothing, when made without a token).
#[derive(Clone, Default)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl BearerToken {
    /// Fails when `token` cannot be a header value (not visible ASCII).
    pub fn new(token: &str) -> Result<Self, Error> {
        let bad = || invalid("a token must be visible ASCII, without spaces");
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(bad());
        }
        let mut value: MetadataValue<Ascii> =
            format!("Bearer {token}").parse().map_err(|_| bad())?;
        value.set_sensitive(true); // kept out of HPACK tables and Debug output
        Ok(Self(Some(value)))
    }
}

impl Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert(AUTHORIZATION_HEADER, value.clone());
        }
        Ok(request)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = if self.0.is_some() {
            "Some(<redacted>)"
        } else {
            "None"
        };
        write!(f, "BearerToken({shown})")
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Code::InvalidArgument, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(token: &BearerToken) -> Option<String> {
        let request = token.clone().call(tonic::Request::new(())).unwrap();
        let value = request.metadata().get(AUTHORIZATION_HEADER)?;
        Some(value.to_str().unwrap().to_owned())
    }

    #[test]
    fn the_token_goes_in_the_authorization_header() {
        let token = Credentials::new().token("s3cret").bearer_token().unwrap();
        assert_eq!(header(&token).as_deref(), Some("Bearer s3cret"));
        assert!(!format!("{token:?}").contains("s3cret"));
        let none = Credentials::new().token("").bearer_token().unwrap();
        assert_eq!(header(&none), None);
        assert!(BearerToken::new("two words").is_err());
        assert!(BearerToken::new("line\nbreak").is_err());
    }

    #[test]
    fn plaintext_unless_a_ca_is_given() {
        assert!(
            Credentials::new()
                .token("t")
                .tls_config()
                .unwrap()
                .is_none()
        );
        let err = Credentials::new()
            .cert_file("c.pem")
            .key_file("k.pem")
            .tls_config()
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let missing = Credentials::new()
            .ca_file("/nonexistent/ca.pem")
            .tls_config();
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/ca.pem")
        );
    }

    #[test]
    fn cert_and_key_go_together() {
        let ca = std::env::temp_dir().join(format!("openenv-ca-{}.pem", std::process::id()));
        std::fs::write(&ca, "not checked until the handshake").unwrap();
        let half = Credentials::new()
            .ca_file(&ca)
            .cert_file("c.pem")
            .tls_config();
        assert!(half.unwrap_err().to_string().contains("go together"));
        assert!(
            Credentials::new()
                .ca_file(&ca)
                .tls_config()
                .unwrap()
                .is_some()
        );
        std::fs::remove_file(ca).unwrap();
    }
}
