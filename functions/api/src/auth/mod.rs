//! Who may call the API: bearer extraction, token verification, the JWKS cache, the scope rule.

pub mod bearer;
pub mod jwks;
mod key_policy;
mod rsa_key;
pub mod scope;
mod strict_json;
pub mod verifier;
