//! TLS for the server: a certificate chain and its private key, read from
//! PEM files and checked once at start-up. tonic would only find a bad file
//! when it builds its acceptor, with a message that names neither the file
//! nor the problem; here each error says which file is wrong and why.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use rustls::crypto::ring::default_provider;
use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use tonic::transport::{Identity, ServerTlsConfig};

/// How long a client may take to finish the TLS handshake. Without a limit
/// a client that connects and then says nothing holds its socket for good.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's certificate chain and private key, PEM-encoded, checked to
/// parse and to belong together. `Debug` leaves the key out.
#[derive(Clone)]
pub struct TlsIdentity {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    certificates: usize,
}

/// Why the certificate or the key cannot be used. Each variant names the
/// file (or `in-memory` data) it is about.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read TLS {what} {file}: {error}")]
    Read {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file's path.
        file: String,
        /// The I/O error (in the message, so not also a `source`).
        error: std::io::Error,
    },
    /// The certificate file holds no usable certificate.
    #[error("TLS certificate {file}: {reason}")]
    Certificate {
        /// The file's path.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file holds no usable private key.
    #[error("TLS key {file}: {reason}")]
    Key {
        /// The file's path.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key is valid but is not the key of the certificate.
    #[error("TLS key {key} does not match the certificate {cert}: the key's public key is not the certificate's")]
    Mismatch {
        /// The certificate file.
        cert: String,
        /// The key file.
        key: String,
    },
}

impl TlsIdentity {
    /// Reads and checks a PEM certificate chain (server certificate first,
    /// then any intermediates) and its PEM private key (PKCS#8, PKCS#1 or
    /// SEC1).
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |what, path: &Path| {
            std::fs::read(path).map_err(|error| TlsError::Read {
                what,
                file: path.display().to_string(),
                error,
            })
        };
        let (cert_pem, key_pem) = (read("certificate", cert)?, read("key", key)?);
        Self::check(
            cert_pem,
            key_pem,
            &cert.display().to_string(),
            &key.display().to_string(),
        )
    }

    /// Certificates in the chain (the server's own plus intermediates).
    pub fn certificates(&self) -> usize {
        self.certificates
    }

    /// The tonic configuration: this identity, no client certificates, and
    /// [`HANDSHAKE_TIMEOUT`].
    pub fn server_config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
            .timeout(HANDSHAKE_TIMEOUT)
    }

    /// A rustls configuration for HTTP/1.1 with this identity (the
    /// console's), on the same provider as tonic's (ring).
    pub fn http_config(&self) -> Result<std::sync::Arc<rustls::ServerConfig>, rustls::Error> {
        let chain = CertificateDer::pem_slice_iter(&self.cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| rustls::Error::General(format!("certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|e| rustls::Error::General(format!("key: {e}")))?;
        let mut config =
            rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(default_provider()))
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(std::sync::Arc::new(config))
    }

    /// Runs the checks rustls runs when tonic builds its acceptor, with the
    /// same provider (ring), but keeps track of which file failed.
    fn check(cert_pem: Vec<u8>, key_pem: Vec<u8>, cert: &str, key: &str) -> Result<Self, TlsError> {
        let cert_error = |reason: String| TlsError::Certificate {
            file: cert.to_owned(),
            reason,
        };
        let key_error = |reason: String| TlsError::Key {
            file: key.to_owned(),
            reason,
        };
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| cert_error(format!("not valid PEM: {e}")))?;
        if chain.is_empty() {
            return Err(cert_error(
                if PrivateKeyDer::from_pem_slice(&cert_pem).is_ok() {
                    "holds a private key, not a certificate (are the two files swapped?)".into()
                } else {
                    "no certificate found (expected a -----BEGIN CERTIFICATE----- block)".into()
                },
            ));
        }
        let private_key = match PrivateKeyDer::from_pem_slice(&key_pem) {
            Ok(k) => k,
            Err(pem::Error::NoItemsFound) => {
                return Err(key_error(
                    if CertificateDer::pem_slice_iter(&key_pem).any(|c| c.is_ok()) {
                        "holds a certificate, not a private key (are the two files swapped?)".into()
                    } else {
                        "no private key found (expected a -----BEGIN PRIVATE KEY-----, \
                         RSA PRIVATE KEY or EC PRIVATE KEY block)"
                            .into()
                    },
                ))
            }
            Err(e) => return Err(key_error(format!("not valid PEM: {e}"))),
        };
        let signing_key = default_provider()
            .key_provider
            .load_private_key(private_key)
            .map_err(|e| key_error(format!("unsupported or damaged private key: {e}")))?;
        let certificates = chain.len();
        match CertifiedKey::new(chain, signing_key).keys_match() {
            // ring cannot always tell (e.g. some RSA keys): rustls accepts
            // that too, and a wrong key then fails the first handshake.
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                return Err(TlsError::Mismatch {
                    cert: cert.to_owned(),
                    key: key.to_owned(),
                })
            }
            Err(e) => {
                return Err(cert_error(format!(
                    "the first certificate is not valid: {e}"
                )))
            }
        }
        Ok(Self {
            cert_pem,
            key_pem,
            certificates,
        })
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("certificates", &self.certificates)
            .finish_non_exhaustive()
    }
}
