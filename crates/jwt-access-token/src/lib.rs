//! Who may call the API: bearer extraction, token verification, the JWKS cache, the scope rule.

pub mod bearer;
mod claims;
pub mod clock;
pub mod discovery;
pub mod dpop;
mod header;
pub mod http_client;
mod jose;
pub mod jwks;
mod key_policy;
pub mod key_set;
pub mod profile;
pub mod rejection;
mod rsa_key;
pub mod scope;
pub mod strict_json;
pub mod token_cache;
mod trusted_issuer;
mod verified_token;
pub mod verifier;
mod verifying_key;
