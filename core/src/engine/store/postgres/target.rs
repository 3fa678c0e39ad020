//! Reaching the database: the URL read as libpq reads it (`sslmode`, `sslrootcert`), TLS through
//! rustls with `ring`, and a way to speak of the server that never carries the password.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::{Host, SslMode as DriverSslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Error, Result};

/// How long opening a connection may take unless the URL says (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// libpq's `sslmode` values (`allow` is read as `prefer`: both encrypt when the server can and
/// verify nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS if the server offers it, else plain; the certificate is not checked.
    Prefer,
    /// TLS or no connection; the certificate is not checked (libpq's meaning), unless the URL
    /// names an `sslrootcert`, which makes it `VerifyCa` (libpq's meaning too).
    Require,
    /// TLS, with a certificate chained to a trusted root; any host name.
    VerifyCa,
    /// TLS, with a certificate chained to a trusted root and naming the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => Self::Disable,
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }
}

/// A database server to connect to: the driver's settings, the TLS connector, and how to name
/// it in messages.
pub(crate) struct Target {
    /// The driver's settings for pooled connections.
    pub config: tokio_postgres::Config,
    /// The settings of the change feed's connection: its own application name and TCP
    /// keepalives, so a silently dead peer is noticed within a minute, not two hours.
    pub listener_config: tokio_postgres::Config,
    /// The TLS connector (unused with `sslmode=disable` and on Unix sockets).
    pub tls: MakeRustlsConnect,
    /// The effective `sslmode`.
    pub ssl_mode: SslMode,
    /// `user@host:port/db`: for messages and logs.
    pub shown: String,
    secret: Secret,
}

impl Target {
    /// Reads a `postgres://` / `postgresql://` URL or a libpq `key=value` string.
    pub fn parse(url: &str) -> Result<Self> {
        let secret = Secret::of(url);
        let bad = |message: String| Error::validation("database_url", secret.scrub(message));
        let (rest, ssl) = take_ssl_params(url).map_err(bad)?;
        let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| bad(e.to_string()))?;
        let mode = match &ssl.mode {
            None => SslMode::Prefer,
            Some(m) => SslMode::parse(m).ok_or_else(|| {
                bad(format!("sslmode {m:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"))
            })?,
        };
        // libpq: with a root certificate given, `require` verifies the chain like `verify-ca`.
        let mode = if mode == SslMode::Require && ssl.root_cert.is_some() { SslMode::VerifyCa } else { mode };
        config.ssl_mode(match mode {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Prefer => DriverSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
        });
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("grantline");
        }
        let mut listener_config = config.clone();
        listener_config
            .application_name(format!("{}-listener", config.get_application_name().unwrap_or("grantline")))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(15))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3);
        let tls = MakeRustlsConnect::new(tls_config(mode, ssl.root_cert.as_deref()).map_err(bad)?);
        let shown = show(&config);
        let mut secret = secret;
        if let Some(p) = config.get_password() {
            secret.add(String::from_utf8_lossy(p).into_owned());
        }
        Ok(Self { config, listener_config, tls, ssl_mode: mode, shown, secret })
    }

    /// `message` with the password (in any of its spellings) blanked out.
    pub fn scrub(&self, message: impl Into<String>) -> String {
        self.secret.scrub(message.into())
    }
}

/// `user@host:port/db`, never the password.
fn show(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = config.get_ports().get(i).or(config.get_ports().first()).copied().unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            }
        })
        .collect();
    format!(
        "{}@{}/{}",
        config.get_user().unwrap_or(""),
        if hosts.is_empty() { "localhost".to_string() } else { hosts.join(",") },
        config.get_dbname().unwrap_or("")
    )
}

/// The URL's TLS settings that tokio-postgres does not read (it refuses `verify-*` and
/// `sslrootcert`), taken out of it.
#[derive(Debug, Default, PartialEq)]
struct SslParams {
    mode: Option<String>,
    root_cert: Option<String>,
}

/// Splits `sslmode` and `sslrootcert` off a URL (`?a=b&…`) or a `key=value` string.
fn take_ssl_params(url: &str) -> std::result::Result<(String, SslParams), String> {
    let mut ssl = SslParams::default();
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            ssl.mode = Some(value);
            true
        }
        "sslrootcert" => {
            ssl.root_cert = Some(value);
            true
        }
        _ => false,
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else { return Ok((url.to_string(), ssl)) };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|s| s.into_owned())
                    .map_err(|_| "the URL's query is not UTF-8".to_string())
            };
            if !take(&decode(k)?, decode(v)?) {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        Ok((rest, ssl))
    } else {
        // key=value form: only unquoted `sslmode=…` / `sslrootcert=…` words are taken out.
        let mut rest = String::with_capacity(url.len());
        for word in url.split_whitespace() {
            let taken = word.split_once('=').is_some_and(|(k, v)| !v.starts_with('\'') && take(k, v.to_string()));
            if !taken {
                if !rest.is_empty() {
                    rest.push(' ');
                }
                rest.push_str(word);
            }
        }
        // Whitespace inside quoted values is kept only if nothing was taken out.
        if ssl == SslParams::default() {
            rest = url.to_string();
        }
        Ok((rest, ssl))
    }
}

/// The rustls settings for `mode`: `ring` only, TLS 1.2 and 1.3.
fn tls_config(mode: SslMode, root_cert: Option<&str>) -> std::result::Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let algorithms = provider.signature_verification_algorithms;
    let config = match mode {
        // `disable` never uses it; `prefer` and `require` encrypt without checking who answers,
        // exactly as libpq does: say verify-ca or verify-full to be protected from impersonation.
        SslMode::Disable | SslMode::Prefer | SslMode::Require => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(EncryptOnly { algorithms })).with_no_client_auth()
        }
        SslMode::VerifyCa => {
            let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots(root_cert)?), provider)
                .build()
                .map_err(|e| format!("TLS: {e}"))?;
            builder.dangerous().with_custom_certificate_verifier(Arc::new(ChainOnly { chain })).with_no_client_auth()
        }
        SslMode::VerifyFull => builder.with_root_certificates(roots(root_cert)?).with_no_client_auth(),
    };
    Ok(config)
}

/// The trusted roots: the PEM file `sslrootcert` names, or Mozilla's (`webpki-roots`) when it
/// names none or says `system`.
fn roots(root_cert: Option<&str>) -> std::result::Result<RootCertStore, String> {
    match root_cert {
        None | Some("system") => Ok(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }),
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| format!("sslrootcert {path}: {e}"))?;
            let mut store = RootCertStore::empty();
            let (added, _ignored) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("sslrootcert {path}: no certificate in it"));
            }
            Ok(store)
        }
    }
}

/// `sslmode=prefer|require`: the server's certificate is accepted whoever signed it and whatever
/// it names (libpq's behaviour). The handshake signatures are still checked against that
/// certificate, so the session is really encrypted to its holder.
#[derive(Debug)]
struct EncryptOnly {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must lead to a trusted root; the name in the certificate is not
/// compared with the host (webpki checks the name last, so only that check is waived).
#[derive(Debug)]
struct ChainOnly {
    chain: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

/// The URL's password, in each spelling it may take in a message, to blank out.
#[derive(Default)]
struct Secret(Vec<String>);

impl Secret {
    /// The password of a URL (raw and percent-decoded) or of a `password=` word.
    fn of(url: &str) -> Self {
        let mut secret = Self::default();
        if let Some((_, after)) = url.split_once("://") {
            let authority = after.split(['/', '?']).next().unwrap_or("");
            if let Some((userinfo, _)) = authority.rsplit_once('@') {
                if let Some((_, password)) = userinfo.split_once(':') {
                    secret.add(password.to_string());
                    if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                        secret.add(decoded.into_owned());
                    }
                }
            }
            if let Some((_, query)) = after.split_once('?') {
                for pair in query.split('&') {
                    if let Some(("password", v)) = pair.split_once('=') {
                        secret.add(v.to_string());
                    }
                }
            }
        } else {
            for word in url.split_whitespace() {
                if let Some(("password", v)) = word.split_once('=') {
                    secret.add(v.trim_matches('\'').to_string());
                }
            }
        }
        secret
    }

    fn add(&mut self, spelling: String) {
        if !spelling.is_empty() && !self.0.contains(&spelling) {
            self.0.push(spelling);
        }
    }

    fn scrub(&self, mut message: String) -> String {
        for s in &self.0 {
            message = message.replace(s.as_str(), "***");
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_modes_and_root_certs_are_read_out_of_the_url() {
        let (rest, ssl) = take_ssl_params("postgres://u:p@db.test:5432/app?sslmode=verify-full&application_name=x").unwrap();
        assert_eq!(rest, "postgres://u:p@db.test:5432/app?application_name=x");
        assert_eq!(ssl.mode.as_deref(), Some("verify-full"));
        let (rest, ssl) = take_ssl_params("postgresql://u@h/d?sslrootcert=%2Fetc%2Fca.pem&sslmode=require").unwrap();
        assert_eq!(rest, "postgresql://u@h/d");
        assert_eq!((ssl.mode.as_deref(), ssl.root_cert.as_deref()), (Some("require"), Some("/etc/ca.pem")));
        let (rest, ssl) = take_ssl_params("host=/tmp user=u sslmode=verify-ca dbname=d").unwrap();
        assert_eq!(rest, "host=/tmp user=u dbname=d");
        assert_eq!(ssl.mode.as_deref(), Some("verify-ca"));
    }

    #[test]
    fn each_sslmode_gets_its_meaning() {
        assert_eq!(Target::parse("postgres://u@h/d").unwrap().ssl_mode, SslMode::Prefer, "libpq's default");
        assert_eq!(Target::parse("postgres://u@h/d?sslmode=disable").unwrap().ssl_mode, SslMode::Disable);
        let require = Target::parse("postgres://u@h/d?sslmode=require").unwrap();
        assert_eq!((require.ssl_mode, require.config.get_ssl_mode()), (SslMode::Require, DriverSslMode::Require));
        let full = Target::parse("postgres://u@h/d?sslmode=verify-full").unwrap();
        assert_eq!((full.ssl_mode, full.config.get_ssl_mode()), (SslMode::VerifyFull, DriverSslMode::Require));
        assert_eq!(Target::parse("postgres://u@h/d?sslmode=verify-ca").unwrap().ssl_mode, SslMode::VerifyCa);
        let err = Target::parse("postgres://u@h/d?sslmode=sometimes").err().unwrap().to_string();
        assert!(err.contains("database_url") && err.contains("sometimes"), "{err}");
        let err = Target::parse("postgres://u@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").err().unwrap().to_string();
        assert!(err.contains("sslrootcert"), "{err}");
    }

    #[test]
    fn the_password_never_shows() {
        let t = Target::parse("postgres://ada:s%40cret@db.test:6543/app").unwrap();
        assert_eq!(t.shown, "ada@db.test:6543/app");
        assert_eq!(t.scrub("failed for s@cret and s%40cret"), "failed for *** and ***");
        let err = Target::parse("postgres://ada:hunter22@db.test/app?nonsense=1").err().unwrap().to_string();
        assert!(!err.contains("hunter22"), "{err}");
    }
}
