//! The job's `private_key_jwt` assertion with its `kms:Sign` round trip, against the local AWS
//! emulator the bench starts for DynamoDB (moto through `aws_server.py`, on 127.0.0.1), with
//! keys made by `infra/local/signing_key.py` as `AUTH_CLIENT_AUTH=private_key_jwt make up`
//! makes them. What AWS KMS itself takes over the network is not measured here.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_kms::config::{Credentials, SharedCredentialsProvider};
use timesheets_job::client_assertion::{AssertionAlgorithm, AssertionConfig, AssertionSigner};

use crate::dynamodb::LocalDynamoDb;
use crate::issuer::AUDIENCE;
use crate::report;

/// Assertions per timed round, rounds per figure (the median round), warm-up calls per key.
const PER_ROUND: usize = 20;
const ROUNDS: usize = 5;
const WARM_UP: usize = 3;

/// Median time of one whole `AssertionSigner::assertion`, `kms:Sign` included.
pub struct KmsFigures {
    pub rs256: Duration,
    pub es256: Duration,
}

/// Measures both algorithms, their rounds in turn.
///
/// # Errors
/// Why it was not measured: no emulator, no key, a failed `kms:Sign`.
pub fn measure(repo: &Path, emulator: Option<&LocalDynamoDb>) -> Result<KmsFigures, String> {
    let emulator = emulator.ok_or("no local AWS emulator")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let http = timesheets::http_client::build(Duration::from_secs(10))
        .map_err(|error| error.to_string())?;
    // The functions' SDK set-up, pointed at the emulator without touching the process's env.
    let config = runtime
        .block_on(timesheets::sdk_http::sdk_config(&http))
        .into_builder()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&emulator.endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test",
            "test",
            None,
            None,
            "lambda-bench",
        )))
        .build();
    let kms = aws_sdk_kms::Client::new(&config);
    let mut signers = Vec::new();
    for alg in [AssertionAlgorithm::RS256, AssertionAlgorithm::ES256] {
        let key_id = signing_key(repo, emulator, alg)?;
        // A configured kid: the once-per-sandbox kms:GetPublicKey stays out of the figure.
        let config = AssertionConfig {
            key_id,
            alg,
            kid: Some("bench-kid".to_owned()),
            audience: AUDIENCE.to_owned(),
        };
        signers.push(AssertionSigner::new(kms.clone(), config));
    }
    let assertion = |signer: &AssertionSigner| {
        runtime
            .block_on(signer.assertion("bench", SystemTime::now()))
            .map_err(|error| error.to_string())
    };
    for signer in &signers {
        for _ in 0..WARM_UP {
            assertion(signer)?;
        }
    }
    let mut samples = [Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        for (signer, times) in signers.iter().zip(samples.iter_mut()) {
            let started = Instant::now();
            for _ in 0..PER_ROUND {
                assertion(signer)?;
            }
            times.push(started.elapsed() / PER_ROUND as u32);
        }
    }
    let [rs256, es256] = samples.map(|mut times| report::median(&mut times));
    Ok(KmsFigures { rs256, es256 })
}

/// The ARN of the emulator's signing key for `alg`, made (or reused) by `signing_key.py`.
fn signing_key(
    repo: &Path,
    emulator: &LocalDynamoDb,
    alg: AssertionAlgorithm,
) -> Result<String, String> {
    let output = Command::new(repo.join(".venv/bin/python"))
        .arg(repo.join("infra/local/signing_key.py"))
        .args([alg.name(), &format!("alias/lambda-bench-{}", alg.name())])
        .envs(emulator.env())
        .output()
        .map_err(|error| format!("signing_key.py: {error}"))?;
    if !output.status.success() {
        return Err(format!("signing_key.py failed ({})", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
