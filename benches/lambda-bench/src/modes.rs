//! What each authentication mode adds per request, in this process (release build), next to
//! the raw aws-lc-rs operation it is built on: the API's DPoP proof check (`AUTH_DPOP`
//! allowed or required), and the job's client assertion without its `kms:Sign`
//! (`AUTH_CLIENT_AUTH=private_key_jwt`) and DPoP proofs (`AUTH_DPOP=on`).

use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
    EcdsaKeyPair, ParsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_access_token::ProofTarget;
use jwt_access_token::{DpopMode, DpopPolicy};
use timesheets_job::DpopSigner;
use timesheets_job::client_assertion::{self, AssertionAlgorithm};
use url::Url;

use crate::crypto::{PER_ROUND, ROUNDS, time_round};
use crate::dpop::DpopClient;
use crate::issuer::{AUDIENCE, Issuer};
use crate::kms::KmsFigures;
use crate::report::{self, Row};
use testkit::upload_event::htu;

/// The client id and token endpoint the job's assertions and token-request proofs name.
const CLIENT_ID: &str = "bench";
const TOKEN_URL: &str = "https://bench.example/oauth/token";

/// Per-operation medians, in process.
pub struct ModeFigures {
    /// aws-lc-rs P-256 verify of a proof's signature, key parsed once, signature decoded.
    pub raw_verify: Duration,
    /// `DpopPolicy::check_proof`: size, JWS, header, `jwk`, ES256 verify, claims, `htu`,
    /// `ath`, RFC 7638 thumbprint against `cnf.jkt`. The replay record is not in it.
    pub proof_check: Duration,
    /// aws-lc-rs P-256 sign of a message as long as a proof's signing input.
    pub raw_sign: Duration,
    /// `DpopSigner::proof` for a token request (no `ath`).
    pub token_request_proof: Duration,
    /// `DpopSigner::proof` for an API call (`ath` of the access token).
    pub api_call_proof: Duration,
    /// `DpopSigner::generate`: the P-256 key, once per sandbox.
    pub key_generation: Duration,
    /// The RS256 assertion without `kms:Sign`: `signing_input` and `compact`.
    pub assertion_rs256: Duration,
    /// The ES256 one, the DER signature turned into `r || s`.
    pub assertion_es256: Duration,
}

/// Measures the figures; rounds of all operations are interleaved, as in `crypto.rs`.
pub fn measure(issuer: &Issuer) -> ModeFigures {
    let client = DpopClient::new(issuer, 3);
    let public = client_point(&client);
    let raw_key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public).expect("P-256 key");
    let url = Url::parse(&htu()).expect("htu");
    let policy = DpopPolicy {
        mode: DpopMode::Required,
        htu: None,
        leeway_seconds: 5,
    };
    let jkt = client.key.thumbprint();

    let signer = DpopSigner::generate().expect("DPoP key");
    let token_url = Url::parse(TOKEN_URL).expect("token URL");
    let sample = signer
        .proof("POST", &url, Some(&client.token))
        .expect("proof");
    let message = sample.rsplit_once('.').expect("compact JWS").0.to_owned();
    let raw_pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key");
    let rng = SystemRandom::new();
    // What kms:Sign answers: 256 bytes for RSA_2048, a DER ECDSA-Sig-Value for P-256.
    let rsa_signature = vec![0x5a; 256];
    let der_signature = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
        .and_then(|pair| pair.sign(&rng, message.as_bytes()))
        .expect("DER ECDSA signature")
        .as_ref()
        .to_vec();

    let mut samples: [Vec<Duration>; 8] = Default::default();
    for _ in 0..ROUNDS {
        let proofs: Vec<String> = (0..PER_ROUND).map(|_| client.proof()).collect();
        let parts: Vec<(&str, Vec<u8>)> = proofs
            .iter()
            .map(|proof| {
                let (signing_input, signature) = proof.rsplit_once('.').expect("compact JWS");
                let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
                (signing_input, signature)
            })
            .collect();
        samples[0].push(time_round(|i| {
            let (signing_input, signature) = &parts[i];
            raw_key
                .verify_sig(signing_input.as_bytes(), signature)
                .expect("proof signature verifies");
        }));
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        samples[1].push(time_round(|i| {
            let target = ProofTarget {
                method: "POST",
                url: &url,
                access_token: &client.token,
            };
            policy
                .check_proof(&proofs[i], target, &jkt, now)
                .expect("the proof passes");
        }));
        samples[2].push(time_round(|_| {
            raw_pair.sign(&rng, message.as_bytes()).expect("signature");
        }));
        samples[3].push(time_round(|_| {
            signer.proof("POST", &token_url, None).expect("proof");
        }));
        samples[4].push(time_round(|_| {
            signer
                .proof("POST", &url, Some(&client.token))
                .expect("proof");
        }));
        samples[5].push(time_round(|_| {
            DpopSigner::generate().expect("DPoP key");
        }));
        for (slot, alg, signature) in [
            (6, AssertionAlgorithm::RS256, &rsa_signature),
            (7, AssertionAlgorithm::ES256, &der_signature),
        ] {
            samples[slot].push(time_round(|_| {
                let input = client_assertion::signing_input(
                    alg,
                    "bench-kid",
                    CLIENT_ID,
                    AUDIENCE,
                    SystemTime::now(),
                );
                client_assertion::compact(input, alg, signature).expect("assertion");
            }));
        }
    }
    let medians = samples.map(|mut round_times| report::median(&mut round_times));
    ModeFigures {
        raw_verify: medians[0],
        proof_check: medians[1],
        raw_sign: medians[2],
        token_request_proof: medians[3],
        api_call_proof: medians[4],
        key_generation: medians[5],
        assertion_rs256: medians[6],
        assertion_es256: medians[7],
    }
}

/// The client's public key as SEC 1 uncompressed point bytes, `0x04 || x || y`.
fn client_point(client: &DpopClient) -> Vec<u8> {
    let jwk = client.key.public_jwk();
    let coordinate = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect("coordinate"))
            .expect("base64url")
    };
    [vec![0x04], coordinate("x"), coordinate("y")].concat()
}

/// The table rows: what each mode adds, per request, and the KMS round trip where measured.
pub fn rows(figures: &ModeFigures, kms: &Result<KmsFigures, String>) -> Vec<Row> {
    let us = report::duration;
    let against = |name: &str, raw: Duration, ours: Duration| {
        Row::new(name, us(raw), us(ours), Some(report::ratio(ours, raw)))
    };
    let alone = |name: &str, ours: String| Row::new(name, "—".to_owned(), ours, None);
    let kms_row = |name: &str, figure: fn(&KmsFigures) -> Duration| match kms {
        Ok(kms) => alone(name, us(figure(kms))),
        Err(why) => alone(name, format!("not measured here: {why}")),
    };
    vec![
        against(
            "API, AUTH_DPOP allowed/required: proof check per request (JWS, ES256, htu, ath, RFC 7638 jkt), vs raw P-256 verify",
            figures.raw_verify,
            figures.proof_check,
        ),
        alone(
            "API, AUTH_DPOP allowed/required: jti replay record",
            "one more Put in the upload's transaction: no round trip of its own".to_owned(),
        ),
        alone(
            "job, client_secret_post: added per token request",
            "nothing signed (the secret goes in the form body)".to_owned(),
        ),
        alone(
            "job, private_key_jwt RS256: assertion per token request, without kms:Sign",
            us(figures.assertion_rs256),
        ),
        alone(
            "job, private_key_jwt ES256: assertion per token request (DER → r||s), without kms:Sign",
            us(figures.assertion_es256),
        ),
        kms_row(
            "job, private_key_jwt RS256: whole assertion with its kms:Sign round trip (moto on 127.0.0.1)",
            |kms| kms.rs256,
        ),
        kms_row(
            "job, private_key_jwt ES256: whole assertion with its kms:Sign round trip (moto on 127.0.0.1)",
            |kms| kms.es256,
        ),
        against(
            "job, AUTH_DPOP=on: proof per token request (ES256), vs raw P-256 sign",
            figures.raw_sign,
            figures.token_request_proof,
        ),
        against(
            "job, AUTH_DPOP=on: proof per API call (ES256, with ath), vs raw P-256 sign",
            figures.raw_sign,
            figures.api_call_proof,
        ),
        alone(
            "job, AUTH_DPOP=on: P-256 key generation, once per sandbox (init)",
            us(figures.key_generation),
        ),
    ]
}

/// The sentence under the table: the KMS round trip dominates what `private_key_jwt` adds.
pub fn kms_note(figures: &ModeFigures, kms: &Result<KmsFigures, String>) -> String {
    match kms {
        Ok(kms) => format!(
            "private_key_jwt: the kms:Sign round trip (network) dominates what it adds per token \
             request: the whole assertion takes {} (RS256) and {} (ES256) against the local \
             emulator on 127.0.0.1, of which {} and {} in process; on AWS it is a call to the regional KMS endpoint, not measured here.",
            report::duration(kms.rs256),
            report::duration(kms.es256),
            report::duration(figures.assertion_rs256),
            report::duration(figures.assertion_es256),
        ),
        Err(why) => format!(
            "private_key_jwt: the kms:Sign round trip (network) dominates what it adds per token \
             request; it is not measured here ({why})."
        ),
    }
}
