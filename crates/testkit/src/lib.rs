//! Test-only helpers shared by the unit, integration and end-to-end tests. Keys are generated
//! when a test runs and never written anywhere.

pub mod dpop;
pub mod issuer;
pub mod jwks_server;
pub mod keys;
pub mod request;
pub mod runtime_api;
pub mod upload_event;

pub use dpop::TestDpopKey;
pub use issuer::LocalIssuer;
pub use jwks_server::{JwksServer, Reply};
pub use keys::TestKey;
