//! The verified-token cache: access tokens already verified, cached across warm invocations so
//! a token the API has seen is accepted without another signature check until its `exp`.
//!
//! Rules: keyed by SHA-256 of the token's signing input (`header.payload`) with its signature
//! segment compared byte for byte, so a hit means the very same header, claims and signature;
//! that digest is the one an RS256, PS256 or ES256 check verifies, so a new token is hashed
//! once for both. An entry serves only while `now < exp`, `exp` without leeway, and
//! only while its `kid` still names the same key in the JWKS; only verified tokens enter, so
//! tokens the API refuses never displace anything, and making an entry costs whoever makes it
//! a token the issuer signed. Bounded by [`TOKEN_CACHE_MAX_ENTRIES`] and
//! [`TOKEN_CACHE_MAX_BYTES`]; when full, expired entries go first, then the least recently used
//! eighth.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest::{self, Digest, SHA256};

use super::verifying_key::VerifyingKey;

/// Most tokens held.
pub const TOKEN_CACHE_MAX_ENTRIES: usize = 1024;
/// Most bytes held, counting each entry as [`ENTRY_OVERHEAD`] plus its claims' text.
pub(crate) const TOKEN_CACHE_MAX_BYTES: usize = 1024 * 1024;
/// Largest single entry; a token with more claim text is verified every time instead.
pub const TOKEN_CACHE_MAX_ENTRY_BYTES: usize = 4 * 1024;
/// Entries dropped together when the cache is full.
const EVICTED_AT_ONCE: usize = TOKEN_CACHE_MAX_ENTRIES / 8;
/// Bytes counted per entry besides its claims' and signature's text (key, digest, map slot).
const ENTRY_OVERHEAD: usize = 256;

/// SHA-256 of a token's signing input, the map key.
pub(crate) type TokenDigest = [u8; 32];

/// SHA-256 of `signing_input` (`header.payload` of a compact JWS, RFC 7515 §7.1).
pub(crate) fn digest(signing_input: &str) -> Digest {
    digest::digest(&SHA256, signing_input.as_bytes())
}

/// The map key of a [`digest`].
pub(crate) fn key(digest: &Digest) -> TokenDigest {
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// One verified token, `T` what it grants.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    /// What it grants.
    pub token: Arc<T>,
    /// The `kid` and key that verified it.
    pub kid: String,
    pub key: Arc<VerifyingKey>,
    /// `exp` without leeway, rounded down: served while `now < expires_at`.
    pub expires_at: u64,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Self {
            token: self.token.clone(),
            kid: self.kid.clone(),
            key: self.key.clone(),
            expires_at: self.expires_at,
        }
    }
}

#[derive(Debug)]
struct Held<T> {
    entry: Entry<T>,
    /// The signature segment: with the key's digest, the whole token.
    signature: Box<str>,
    bytes: usize,
    last_used: u64,
}

#[derive(Debug)]
struct State<T> {
    entries: HashMap<TokenDigest, Held<T>>,
    bytes: usize,
    /// Use counter, for least-recently-used eviction.
    tick: u64,
    /// The JWKS generation the entries were last checked against.
    generation: u64,
}

/// The cache; never locked across an `.await`.
#[derive(Debug)]
pub(crate) struct TokenCache<T> {
    state: Mutex<State<T>>,
}

impl<T> Default for TokenCache<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                bytes: 0,
                tick: 0,
                generation: 0,
            }),
        }
    }
}

impl<T> TokenCache<T> {
    /// The entry for the token of `digest` and `signature` if it is still valid at `now`; an
    /// expired one is dropped. The same claims under another signature are another token: a
    /// miss, verified in full.
    pub(crate) fn get(&self, digest: &TokenDigest, signature: &str, now: u64) -> Option<Entry<T>> {
        let mut state = self.lock();
        state.tick += 1;
        let tick = state.tick;
        let held = state.entries.get_mut(digest)?;
        if *held.signature != *signature {
            return None;
        }
        if now < held.entry.expires_at {
            held.last_used = tick;
            return Some(held.entry.clone());
        }
        state.remove(digest);
        None
    }

    /// Holds `entry` for the token of `digest` and `signature`, `text_bytes` the length of
    /// the claims' text it keeps, unless it is already expired at `now` or too large; makes
    /// room first when full.
    pub(crate) fn insert(
        &self,
        digest: TokenDigest,
        signature: &str,
        entry: Entry<T>,
        text_bytes: usize,
        now: u64,
    ) {
        let bytes = ENTRY_OVERHEAD + text_bytes + entry.kid.len() + signature.len();
        if now >= entry.expires_at || bytes > TOKEN_CACHE_MAX_ENTRY_BYTES {
            return;
        }
        let mut state = self.lock();
        state.remove(&digest);
        if state.entries.len() >= TOKEN_CACHE_MAX_ENTRIES
            || state.bytes + bytes > TOKEN_CACHE_MAX_BYTES
        {
            state.make_room(now, bytes);
        }
        state.tick += 1;
        let last_used = state.tick;
        state.bytes += bytes;
        state.entries.insert(
            digest,
            Held {
                entry,
                signature: signature.into(),
                bytes,
                last_used,
            },
        );
    }

    /// Drops the entry for `digest`.
    pub(crate) fn remove(&self, digest: &TokenDigest) {
        self.lock().remove(digest);
    }

    /// When the JWKS `generation` differs from the one last seen, keeps only the entries whose
    /// `kid` still names their key according to `still_held`.
    pub(crate) fn sync_keys(
        &self,
        generation: u64,
        still_held: impl Fn(&str, &Arc<VerifyingKey>) -> bool,
    ) {
        let mut state = self.lock();
        if state.generation == generation {
            return;
        }
        state.generation = generation;
        state
            .entries
            .retain(|_, held| still_held(&held.entry.kid, &held.entry.key));
        state.bytes = state.entries.values().map(|held| held.bytes).sum();
    }

    /// The JWKS generation the entries were last checked against.
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// How many tokens are held.
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the token of `digest` and `signature` is held (expired or not).
    pub(crate) fn contains(&self, digest: &TokenDigest, signature: &str) -> bool {
        self.lock()
            .entries
            .get(digest)
            .is_some_and(|held| *held.signature == *signature)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // A panic while holding the lock leaves a consistent map (each step is whole).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<T> State<T> {
    /// Drops the expired entries, then the least recently used eighth (more if the bytes
    /// still do not fit): one pass per [`EVICTED_AT_ONCE`] insertions at most, not one per
    /// insertion, so a full cache costs an insertion no scan of its own.
    fn make_room(&mut self, now: u64, bytes: usize) {
        self.entries.retain(|_, held| now < held.entry.expires_at);
        let mut by_use: Vec<(u64, TokenDigest)> = self
            .entries
            .iter()
            .map(|(digest, held)| (held.last_used, *digest))
            .collect();
        by_use.sort_unstable();
        let mut bytes_held: usize = self.entries.values().map(|held| held.bytes).sum();
        let mut oldest = by_use.into_iter();
        let mut evicted = 0;
        while self.entries.len() >= TOKEN_CACHE_MAX_ENTRIES
            || bytes_held + bytes > TOKEN_CACHE_MAX_BYTES
            || (evicted > 0 && evicted < EVICTED_AT_ONCE)
        {
            let Some((_, digest)) = oldest.next() else {
                break;
            };
            if let Some(held) = self.entries.remove(&digest) {
                bytes_held -= held.bytes;
                evicted += 1;
            }
        }
        self.bytes = bytes_held;
    }

    fn remove(&mut self, digest: &TokenDigest) {
        if let Some(held) = self.entries.remove(digest) {
            self.bytes -= held.bytes;
        }
    }
}
