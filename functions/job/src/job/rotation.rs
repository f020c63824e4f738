//! Waiting for a rotated client secret to be accepted. Auth0 rotates a client secret in one
//! step: the old one is refused at once, and the new one can take up to 30 s to be accepted
//! (Auth0 docs, "Rotate Client Secrets"). A run that meets the refusal, and finds a new value
//! in Secrets Manager, keeps asking with the new value, with backoff, within the run's budget.

use std::time::Duration;

use crate::credentials::ClientCredentials;
use crate::retry::{Budget, Classify, GaveUp, OutOfTime, RetryPolicy, Verdict};
use crate::token_client::{IssuedToken, TokenClient, TokenRequestError};

/// Upper bound of the first wait between token requests with the new secret; the bound
/// doubles per attempt up to the run's [`RetryPolicy::max_delay`], so about ten requests span
/// Auth0's 30 s.
const FIRST_DELAY: Duration = Duration::from_secs(1);

/// A token request with a rotated secret: a refusal of the client (`invalid_client`, or any
/// 401, [`TokenRequestError::refuses_credentials`]) may end once the new secret propagates.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct Pending(TokenRequestError);

impl Classify for Pending {
    /// Only a refusal of the client is repeated here: the token request already retried its
    /// own transient failures (429, 5xx, the network).
    fn verdict(&self) -> Verdict {
        if self.0.refuses_credentials() {
            Verdict::Transient { retry_after: None }
        } else {
            Verdict::Permanent
        }
    }
}

impl From<OutOfTime> for Pending {
    fn from(out_of_time: OutOfTime) -> Self {
        Self(out_of_time.into())
    }
}

/// `budget` with attempts bounded by its deadline alone, and waits drawn below caps doubling
/// from [`FIRST_DELAY`] to the run's `max_delay` (full jitter, [`crate::retry`]).
fn until_deadline(budget: &Budget) -> Budget {
    Budget {
        policy: RetryPolicy {
            first_delay: FIRST_DELAY,
            max_attempts: usize::MAX,
            ..budget.policy
        },
        ..*budget
    }
}

/// A token for `fresh`, the secret's new value after the issuer refused the old one: asked
/// again while the issuer refuses the client, until it accepts or the run's deadline (less its
/// margin) is near.
///
/// # Errors
/// The last [`TokenRequestError`]: still refused when the deadline came, or another failure.
pub(super) async fn token_after_rotation(
    tokens: &TokenClient,
    fresh: &ClientCredentials,
    budget: &Budget,
) -> Result<IssuedToken, TokenRequestError> {
    let attempted = until_deadline(budget)
        .call("token with the rotated secret", |_timeout| async {
            // The token request bounds its own attempts by `budget`.
            tokens.access_token(fresh, budget).await.map_err(Pending)
        })
        .await;
    match attempted.result {
        Ok(token) => {
            tracing::info!(
                client_id = %fresh.client_id,
                attempts = attempted.attempts,
                "the issuer accepted the rotated client secret"
            );
            Ok(token)
        }
        Err(Pending(error)) => {
            if attempted.gave_up == Some(GaveUp::Deadline) {
                tracing::error!(
                    client_id = %fresh.client_id,
                    attempts = attempted.attempts,
                    "the issuer still refuses the rotated client secret at the run's deadline"
                );
            }
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::Deadline;

    #[test]
    fn only_refusals_of_the_client_are_waited_out() {
        assert!(
            Pending(TokenRequestError::refusal(401, "invalid_client"))
                .verdict()
                .is_transient()
        );
        assert!(
            Pending(TokenRequestError::refusal(401, "access_denied"))
                .verdict()
                .is_transient()
        );
        for other in [
            TokenRequestError::refusal(403, "unauthorized_client"),
            TokenRequestError::refusal(400, "invalid_request"),
            TokenRequestError::refusal(503, "temporarily_unavailable"),
        ] {
            assert_eq!(Pending(other).verdict(), Verdict::Permanent);
        }
    }

    #[test]
    fn the_deadline_alone_bounds_the_attempts() {
        let budget = Budget {
            policy: RetryPolicy::default(),
            deadline: Deadline::after(Duration::from_secs(60)),
            attempt_timeout: Duration::from_secs(10),
        };
        let waiting = until_deadline(&budget);
        assert_eq!(waiting.deadline, budget.deadline);
        assert_eq!(waiting.policy.max_delay, budget.policy.max_delay);
        let waits: Vec<Duration> = waiting.policy.backoff().with_seed(1).take(50).collect();
        assert_eq!(waits.len(), 50);
        assert!(waits[0] <= FIRST_DELAY);
        assert!(waits.iter().all(|wait| *wait <= budget.policy.max_delay));
    }
}
