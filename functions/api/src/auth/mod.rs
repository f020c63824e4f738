//! Who may call the API: bearer extraction, token verification, the JWKS cache, the scope rule.

pub mod bearer;
mod jose;
pub mod jwks;
mod key_policy;
mod rsa_key;
pub mod scope;
pub mod verifier;
