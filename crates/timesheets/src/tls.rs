//! The one TLS client configuration of both functions: rustls over aws-lc-rs, trusting
//! Mozilla's root program as compiled into `webpki-roots`.
//!
//! Why compiled-in roots rather than the sandbox's `/etc/pki` bundle: parsing the system's PEM
//! bundle was about 90% of a cold start's instructions, and it was done once per client. The
//! compiled-in anchors cost nothing at init, are the same set Amazon Linux's `ca-certificates`
//! ships (it is built from Mozilla's), and change only with `Cargo.lock` (`cargo update -p
//! webpki-roots`), so a deployed function trusts exactly what was reviewed. Auth0, Okta,
//! Cognito and every AWS endpoint chain to roots in that set.

use std::sync::Arc;

/// TLS 1.2 and 1.3 with rustls' safe defaults, Mozilla's roots, no client certificate.
///
/// # Panics
/// Never in practice: aws-lc-rs supports every default protocol version.
pub fn client_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports rustls' default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth()
}
