//! What a verified access token grants, as the API reads it.

use super::claims::Claims;
use super::scope::{self, ScopeClaim};

/// A verified access token: who the client is and what it was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `sub`: Auth0 sets `{client_id}@clients` for the client-credentials grant.
    pub subject: Option<String>,
    /// `azp` (Auth0, OIDC) or `client_id` (RFC 9068 §2.2).
    pub client_id: Option<String>,
    /// `cnf.jkt`: the thumbprint of the key a DPoP proof must be signed with (RFC 9449 §6.1);
    /// `None` for a bearer token.
    pub jkt: Option<String>,
    scope: Option<ScopeClaim>,
    scp: Option<ScopeClaim>,
    permissions: Option<Vec<String>>,
}

impl VerifiedToken {
    pub(super) fn from_claims(claims: Claims) -> Self {
        Self {
            subject: claims.sub,
            client_id: claims.azp.or(claims.client_id),
            jkt: claims.cnf.and_then(|cnf| cnf.jkt),
            scope: claims.scope,
            scp: claims.scp,
            permissions: claims.permissions,
        }
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
        self.subject.as_ref().map_or(0, String::len)
            + self.client_id.as_ref().map_or(0, String::len)
            + self.jkt.as_ref().map_or(0, String::len)
            + scopes
            + permissions
    }

    /// The client, for logs and idempotency: `azp`/`client_id`, else `sub`.
    pub fn client(&self) -> &str {
        self.client_id
            .as_deref()
            .or(self.subject.as_deref())
            .unwrap_or("unknown")
    }
}
