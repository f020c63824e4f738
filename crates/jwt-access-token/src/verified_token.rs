//! What a verified access token grants, as the API reads it.

use super::claims::Claims;
use super::rejection::TokenRejection;
use super::scope::{self, ScopeClaim};

/// A verified access token: who the client is and what it was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `azp` (Auth0, OIDC), else `client_id` (RFC 9068 §2.2), else `sub` (Auth0 sets
    /// `{client_id}@clients` for the client-credentials grant); never empty.
    client: String,
    /// `cnf.jkt`: the thumbprint of the key a DPoP proof must be signed with (RFC 9449 §6.1);
    /// `None` for a bearer token.
    pub jkt: Option<String>,
    scope: Option<ScopeClaim>,
    scp: Option<ScopeClaim>,
    permissions: Option<Vec<String>>,
}

impl VerifiedToken {
    /// The token of verified `claims`, which must name its client: what an API keeps per
    /// client (idempotency keys, stored records) a token naming none would share with every
    /// other such token (this crate's rule; RFC 9068 §2.2 makes `sub` and `client_id` required).
    /// The client is the first non-empty of `azp`, `client_id` and `sub`.
    ///
    /// # Errors
    /// [`TokenRejection::NoClient`] when all three are absent or empty.
    pub(super) fn from_claims(claims: Claims) -> Result<Self, TokenRejection> {
        let client = [claims.azp, claims.client_id, claims.sub]
            .into_iter()
            .flatten()
            .find(|name| !name.is_empty())
            .ok_or(TokenRejection::NoClient)?;
        Ok(Self {
            client,
            jkt: claims.cnf.and_then(|cnf| cnf.jkt),
            scope: claims.scope,
            scp: claims.scp,
            permissions: claims.permissions,
        })
    }

    /// Whether the token grants `wanted` through `scope`, `scp` or Auth0's `permissions`.
    pub fn grants(&self, wanted: &str) -> bool {
        scope::grants(
            &[self.scope.as_ref(), self.scp.as_ref()],
            self.permissions.as_deref(),
            wanted,
        )
    }

    /// Bytes of claim text held, to bound what the verified-token cache keeps.
    pub(super) fn text_len(&self) -> usize {
        let scopes: usize = [&self.scope, &self.scp]
            .into_iter()
            .flatten()
            .map(|claim| match claim {
                ScopeClaim::Delimited(text) => text.len(),
                ScopeClaim::List(items) => items.iter().map(String::len).sum(),
            })
            .sum();
        let permissions: usize = self.permissions.iter().flatten().map(String::len).sum();
        self.client.len() + self.jkt.as_ref().map_or(0, String::len) + scopes + permissions
    }

    /// The client, for logs and whatever an API keeps per client: `azp`, else `client_id`,
    /// else `sub`; never empty.
    pub fn client(&self) -> &str {
        &self.client
    }
}
