//! Token verification against the crypto backend's own RSA-2048 PKCS#1 v1.5 verify, in this
//! process: the floor a new token can cost, and what a repeated token costs.

use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::issuer::Issuer;
use crate::report::{self, Row};

/// Operations per timed round, and rounds per figure (the figure is the median round).
pub const PER_ROUND: usize = 200;
pub const ROUNDS: usize = 15;

/// Per-operation medians. The raw, jsonwebtoken and new-token figures go over the same
/// distinct tokens, each once, so each meets the same cold memory a new token brings.
pub struct VerifyFigures {
    /// `ParsedPublicKey::verify_sig`: key parsed once, signature already decoded.
    pub raw: Duration,
    /// jsonwebtoken's verify with a `DecodingKey` made from the JWK, as per token.
    pub jsonwebtoken_per_token: Duration,
    /// `TokenVerifier::verify` of a token it has not seen.
    pub new_token: Duration,
    /// `TokenVerifier::verify` of a token it verified before.
    pub repeated: Duration,
}

/// Time per call of `operation` over [`PER_ROUND`] calls.
pub fn time_round(mut operation: impl FnMut(usize)) -> Duration {
    let started = Instant::now();
    for i in 0..PER_ROUND {
        operation(i);
    }
    started.elapsed() / PER_ROUND as u32
}

/// Measures the four figures with the issuer's key. The rounds of the four are interleaved,
/// so a change in the machine's load falls on all of them and the ratios hold.
pub fn measure(issuer: &Issuer) -> VerifyFigures {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let config = issuer.api_config();
    let http = timesheets::http_client::build(config.jwks_timeout()).expect("HTTP client");
    let verifier = timesheets_api::verifier(&config, http);
    let tokens = issuer.tokens(1_000_000, (ROUNDS * PER_ROUND + 1) as u64);
    let (warm, fresh) = tokens.split_first().expect("tokens");
    // The JWKS is fetched here, outside the timed rounds.
    runtime
        .block_on(verifier.verify(warm))
        .expect("a good token verifies");

    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, issuer.key.public_key_der())
        .expect("RSA public key");
    let jwk: Jwk = serde_json::from_value(issuer.key.jwk()).expect("JWK");

    let mut samples: [Vec<Duration>; 4] = Default::default();
    for round in fresh.chunks(PER_ROUND) {
        // Split and decoded before the clock starts: the raw verify is the signature check only.
        let parts: Vec<(&str, &str, Vec<u8>)> = round
            .iter()
            .map(|token| {
                let (signing_input, signature) = token.rsplit_once('.').expect("compact JWS");
                (signing_input, signature, base64_url(signature))
            })
            .collect();
        samples[0].push(time_round(|i| {
            let (signing_input, _, signature) = &parts[i];
            key.verify_sig(signing_input.as_bytes(), signature)
                .expect("signature verifies");
        }));
        samples[1].push(time_round(|i| {
            let (signing_input, signature_b64, _) = &parts[i];
            let key = DecodingKey::from_jwk(&jwk).expect("decoding key");
            let verified = jsonwebtoken::crypto::verify(
                signature_b64,
                signing_input.as_bytes(),
                &key,
                Algorithm::RS256,
            );
            assert!(matches!(verified, Ok(true)), "signature verifies");
        }));
        samples[2].push(runtime.block_on(async {
            let started = Instant::now();
            for token in round {
                verifier.verify(token).await.expect("a good token verifies");
            }
            started.elapsed() / round.len() as u32
        }));
        samples[3].push(runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..PER_ROUND {
                verifier.verify(warm).await.expect("a good token verifies");
            }
            started.elapsed() / PER_ROUND as u32
        }));
    }
    let [raw, jsonwebtoken_per_token, new_token, repeated] =
        samples.map(|mut round_times| report::median(&mut round_times));
    VerifyFigures {
        raw,
        jsonwebtoken_per_token,
        new_token,
        repeated,
    }
}

fn base64_url(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url signature")
}

/// The table rows of these figures.
pub fn rows(figures: &VerifyFigures) -> Vec<Row> {
    let raw = figures.raw;
    let row = |name: &str, value: Duration| {
        Row::new(
            name,
            report::duration(raw),
            report::duration(value),
            Some(report::ratio(value, raw)),
        )
    };
    let new_ratio = report::ratio(figures.new_token, raw);
    vec![
        row(
            "jsonwebtoken verify, DecodingKey from the JWK per token (info)",
            figures.jsonwebtoken_per_token,
        ),
        row("new token: TokenVerifier::verify", figures.new_token)
            .target("≤ 1.20× raw", new_ratio <= 1.2),
        row("repeated token: TokenVerifier::verify", figures.repeated)
            .target("≤ 2 µs", figures.repeated <= Duration::from_micros(2)),
    ]
}
