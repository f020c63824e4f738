//! One request's access token, end to end (RFC 6750 §2.1, RFC 9449 §7): the credentials of the
//! `Authorization` header, the token, the scheme it came with against its binding (`cnf.jkt`)
//! and the mode, and for a DPoP-bound token the request's one proof, made with the token's key
//! and never used before.

mod error;
mod response;

use lambda_http::{Request, RequestExt};

pub use self::error::AuthorizeError;
use crate::bearer::{self, Credentials, Scheme};
use crate::dpop::proof::ProofTarget;
use crate::dpop::rejection::ProofRejection;
use crate::dpop::replay::{DeferredReplay, ProofRecord, ProofReplay};
use crate::dpop::{self, DpopMode};
use crate::rejection::{TokenError, TokenRejection};
use crate::verified_token::VerifiedToken;
use crate::verifier::TokenVerifier;

impl TokenVerifier {
    /// The verified access token of `request`, DPoP proofs' `jti` remembered in this verifier
    /// only: a proof replayed to another Lambda sandbox is not caught. For several sandboxes
    /// use [`authorize_with_replay`](Self::authorize_with_replay) with a shared store.
    ///
    /// # Errors
    /// The [`AuthorizeError`] to answer, with its status and challenge.
    pub async fn authorize(&self, request: &Request) -> Result<VerifiedToken, AuthorizeError> {
        self.authorize_with_replay(request, self.own_replay()).await
    }

    /// [`authorize_with_replay`](Self::authorize_with_replay) with the replay check left to the
    /// caller: a DPoP proof that passed every other check comes back as its [`ProofRecord`],
    /// which the caller commits with a conditional write, e.g. in the same DynamoDB
    /// transaction as the request's own write so that a replay stores nothing. A record found
    /// there already is a replay: answer it with
    /// [`AuthorizeError::InvalidDpopProof`]`(`[`ProofRejection::Replayed`]`)`. `None` for a
    /// bearer token.
    ///
    /// # Errors
    /// The [`AuthorizeError`] to answer, with its status and challenge.
    pub async fn authorize_deferring_replay(
        &self,
        request: &Request,
    ) -> Result<(VerifiedToken, Option<ProofRecord>), AuthorizeError> {
        let replay = DeferredReplay::default();
        let token = self.authorize_with_replay(request, &replay).await?;
        Ok((token, replay.into_record()))
    }

    /// The verified access token of `request`: the `Authorization` header (`Bearer`, and
    /// `DPoP` unless [`DpopMode::Off`]), never a token in the query (RFC 6750 §2.3), the token
    /// verified, its scheme fitting its binding and the mode (RFC 9449 §7.1, §7.2), and for a
    /// DPoP token the proof of the `DPoP` header checked (RFC 9449 §4.3) and recorded in
    /// `replay` (§11.1).
    ///
    /// # Errors
    /// The [`AuthorizeError`] to answer, with its status and challenge.
    pub async fn authorize_with_replay(
        &self,
        request: &Request,
        replay: &impl ProofReplay,
    ) -> Result<VerifiedToken, AuthorizeError> {
        let mode = self.dpop().mode;
        let token_in_query = request
            .query_string_parameters_ref()
            .is_some_and(|query| query.first("access_token").is_some());
        let credentials =
            bearer::extract_credentials(request.headers(), token_in_query, mode != DpopMode::Off)
                .map_err(|error| AuthorizeError::InvalidRequest(error.to_string()))?
                .ok_or(AuthorizeError::MissingToken(mode))?;
        let refuse = |rejection| match credentials.scheme {
            Scheme::Bearer => AuthorizeError::InvalidToken(rejection),
            Scheme::Dpop => AuthorizeError::InvalidDpopToken(rejection),
        };
        let token = self
            .verify(credentials.token)
            .await
            .map_err(|error| match error {
                TokenError::Invalid(rejection) => refuse(rejection),
                TokenError::KeysUnavailable => AuthorizeError::KeysUnavailable,
            })?;
        self.check_binding(request, credentials, &token, replay)
            .await?;
        Ok(token)
    }

    /// RFC 9449 §7: the scheme must fit the token (`cnf.jkt` or not) and the mode, and a
    /// DPoP token needs a proof made with its key.
    async fn check_binding(
        &self,
        request: &Request,
        credentials: Credentials<'_>,
        token: &VerifiedToken,
        replay: &impl ProofReplay,
    ) -> Result<(), AuthorizeError> {
        let refuse = AuthorizeError::InvalidDpopToken;
        match (self.dpop().mode, credentials.scheme, token.jkt.as_deref()) {
            (DpopMode::Off, _, _) | (DpopMode::Allowed, Scheme::Bearer, None) => Ok(()),
            (_, Scheme::Bearer, Some(_)) => Err(refuse(TokenRejection::DpopBound)),
            (DpopMode::Required, Scheme::Bearer, None) => Err(refuse(TokenRejection::DpopRequired)),
            (_, Scheme::Dpop, None) => Err(refuse(TokenRejection::NotDpopBound)),
            (_, Scheme::Dpop, Some(jkt)) => {
                self.check_proof(request, credentials.token, jkt, replay)
                    .await
            }
        }
    }

    /// The request's one DPoP proof, for this request and the token's key `jkt`, never seen
    /// before by `replay`.
    async fn check_proof(
        &self,
        request: &Request,
        access_token: &str,
        jkt: &str,
        replay: &impl ProofReplay,
    ) -> Result<(), AuthorizeError> {
        let refuse = AuthorizeError::InvalidDpopProof;
        let policy = self.dpop();
        let rebuilt;
        let url = match &policy.htu {
            Some(configured) => configured,
            None => {
                rebuilt = dpop::target::request_url(request).ok_or(refuse(ProofRejection::Htu))?;
                &rebuilt
            }
        };
        let proofs = request
            .headers()
            .get_all("dpop")
            .iter()
            .map(|value| value.to_str().unwrap_or_default());
        let target = ProofTarget {
            method: request.method().as_str(),
            url,
            access_token,
        };
        let now = self.now();
        let checked = dpop::check_bound_proof(proofs, target, jkt, policy, now).map_err(refuse)?;
        let (proof_id, expires_at) = dpop::replay_record(&checked);
        match replay.first_use(&proof_id, expires_at).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(refuse(ProofRejection::Replayed)),
            Err(error) => {
                tracing::error!(%error, "the DPoP replay store failed");
                Err(AuthorizeError::ReplayUnavailable)
            }
        }
    }
}

impl VerifiedToken {
    /// Refuses a token that does not grant `scope` (through `scope`, `scp` or Auth0's
    /// `permissions`, [`VerifiedToken::grants`]).
    ///
    /// # Errors
    /// [`AuthorizeError::InsufficientScope`]: `403` with the scope in the challenge
    /// (RFC 6750 §3.1); [`AuthorizeError::InsufficientDpopScope`] for a DPoP-bound token, whose
    /// challenge is `DPoP` (RFC 9449 §7.1).
    pub fn require_scope(&self, scope: &str) -> Result<(), AuthorizeError> {
        if self.grants(scope) {
            Ok(())
        } else if self.jkt.is_some() {
            // Only a token sent as `DPoP` with its proof gets here bound (RFC 9449 §7.1).
            Err(AuthorizeError::InsufficientDpopScope(scope.to_owned()))
        } else {
            Err(AuthorizeError::InsufficientScope(scope.to_owned()))
        }
    }
}
