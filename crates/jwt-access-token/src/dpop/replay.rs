//! Where the `jti` of accepted DPoP proofs is remembered (RFC 9449 §11.1): a proof is
//! accepted once, and refused as replayed while it could still pass its `iat` check.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Display;
use std::future::Future;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A store of proof records shared by every instance that verifies proofs for the same URL,
/// e.g. a DynamoDB table with a conditional write and a TTL.
pub trait ProofReplay: Sync {
    /// Why the store could not answer; logged, and the request answered `503`.
    type Error: Display;

    /// Records `proof_id` (base64url SHA-256 of the proof's key and `jti`, no proof text) until
    /// `expires_at` (Unix seconds) unless it is recorded already: `true` the first time,
    /// `false` for a replay.
    ///
    /// # Errors
    /// When the store cannot be read or written.
    fn first_use(
        &self,
        proof_id: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// The replay record of a DPoP proof that passed every other check (RFC 9449 §11.1), handed to
/// the caller by [`TokenVerifier::authorize_deferring_replay`](crate::TokenVerifier::authorize_deferring_replay)
/// to commit itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofRecord {
    /// The proof's id: base64url SHA-256 of its key's thumbprint and its `jti`, no proof text.
    pub proof_id: String,
    /// Unix seconds after which the proof is refused as stale anyway, so its record may go.
    pub expires_at: i64,
}

/// The hook of [`TokenVerifier::authorize_deferring_replay`](crate::TokenVerifier::authorize_deferring_replay):
/// keeps the request's one proof record instead of deciding; the caller's commit decides.
#[derive(Debug, Default)]
pub(crate) struct DeferredReplay(Mutex<Option<ProofRecord>>);

impl DeferredReplay {
    pub(crate) fn into_record(self) -> Option<ProofRecord> {
        self.0
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ProofReplay for DeferredReplay {
    type Error = Infallible;

    async fn first_use(&self, proof_id: &str, expires_at: i64) -> Result<bool, Infallible> {
        let record = ProofRecord {
            proof_id: proof_id.to_owned(),
            expires_at,
        };
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(record);
        Ok(true)
    }
}

/// Proof records in this process's memory: enough for one instance (one Lambda sandbox), not
/// across several. Records are dropped once expired.
#[derive(Debug, Default)]
pub struct MemoryReplay {
    seen: Mutex<HashMap<String, i64>>,
}

impl ProofReplay for MemoryReplay {
    type Error = Infallible;

    async fn first_use(&self, proof_id: &str, expires_at: i64) -> Result<bool, Infallible> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.retain(|_, until| *until > now);
        Ok(seen.insert(proof_id.to_owned(), expires_at).is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_proof_is_new_once_until_its_record_expires() {
        let replay = MemoryReplay::default();
        let later = i64::MAX;
        assert_eq!(replay.first_use("a", later).await, Ok(true));
        assert_eq!(replay.first_use("a", later).await, Ok(false));
        assert_eq!(replay.first_use("b", later).await, Ok(true));
        assert_eq!(replay.first_use("old", 1).await, Ok(true));
        assert_eq!(replay.first_use("old", 1).await, Ok(true));
    }
}
