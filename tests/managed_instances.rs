//! Lambda Managed Instances: one API process serving 8, then (a fresh process) 16 invocations
//! at once (`AWS_LAMBDA_MAX_CONCURRENCY`, lambda_runtime's `run_concurrent`), fed by testkit's
//! Runtime API stand-in with twice that many events in flight, so no worker is ever idle.
//!
//! The stream mixes what one process meets: valid bearer access tokens (distinct ones, and one
//! reused), a bad signature, an expired token, one without the scope `batch:upload`, DPoP-bound
//! tokens with their proofs and then those proofs replayed, new idempotency keys, one key sent
//! twice with the same body at the same moment and then again, and with another body; in both
//! API Gateway payloads (HTTP API 2.0, REST 1.0). In the middle the issuer rotates its signing
//! key: key-2 is published and signs every later token while requests are in flight. Every
//! answer must be the one its request calls for; the JWKS must be fetched once at init and once
//! for the rotation, whatever the concurrency; the table must hold exactly one row per entry of
//! each `201` that stored, no id twice, and nothing for replays and refusals.
//!
//! The bootstrap is the debug build that `infra/local/stack.sh up` already made, not a release
//! build, which would add minutes to `make test`; `make bench` runs the release bootstrap under
//! the same concurrency. The stand-ins' DynamoDB serialises requests, so of two requests with
//! one key at the same moment one stores and the other replays it: the transaction conflict
//! (`503`, retried) that DynamoDB may answer instead does not happen here.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use e2e::api_process::ApiProcess;
use e2e::gateway_answer::GatewayAnswer;
use e2e::*;
use jwt_access_token::{ProofRejection, TokenRejection};
use serde_json::{Value, json};
use testkit::issuer::{AUDIENCE, DISCOVERED_JWKS_PATH, DISCOVERY_PATH, claims_with};
use testkit::keys::{jwk_set, now};
use testkit::upload_event::{Payload, event_as, with_key};
use testkit::{LocalIssuer, Reply, TestDpopKey, TestKey};
use timesheets::IDEMPOTENT_REPLAYED_HEADER;

/// Invocations one process serves at once, one process per level.
const LEVELS: [usize; 2] = [8, 16];
/// The upload URL the DPoP proofs name (`AUTH_DPOP_HTU`).
const HTU: &str = "https://api.exampleco.com/timesheets/upload";
/// Rounds of the mixed requests before the rotation, and again after it.
const ROUNDS: usize = 10;
/// How long the issuer takes to serve its rotated JWKS: long enough for every request in
/// flight with a key-2 token to wait on the one refresh.
const ROTATION_DELAY: Duration = Duration::from_millis(300);

/// What a request of the stream is, and so how it must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// A valid bearer token, without an idempotency key or with a new one: `201`, stored.
    Upload,
    /// A DPoP-bound token with a fresh proof: `201`, stored.
    DpopUpload,
    /// One of two requests sent together with idempotency key number `n` and one body: `201`,
    /// one of them stored and the other its replay.
    Twin(usize),
    /// Key `n` and its body again, once both twins were answered: the stored answer replayed.
    TwinAgain(usize),
    /// Key `n` with another body: `422 idempotency_key_reused`.
    OtherBody(usize),
    /// A token whose signature does not verify with the key its `kid` names: `401`.
    BadSignature,
    /// A token past its `exp`: `401`.
    Expired,
    /// A token without `batch:upload`: `403`.
    NoScope,
    /// The request of a [`Case::DpopUpload`] sent again, its proof with it: `401`.
    ProofReplayed,
}

/// One invocation of the stream.
struct Request {
    case: Case,
    entries: usize,
    payload: Vec<u8>,
}

/// What a `201` answered.
#[derive(Debug)]
struct Created {
    ids: Vec<u64>,
    replayed: bool,
    body: Value,
}

/// Builds the stream of one level: tokens of the issuer, proofs of one DPoP key, bodies on
/// one project.
struct Stream<'a> {
    issuer: &'a LocalIssuer,
    project: String,
    dpop: TestDpopKey,
    /// The token sent again and again, and its claims.
    reused: String,
    reused_claims: Value,
    requests: Vec<Request>,
    /// The [`Case::DpopUpload`] requests, to replay.
    dpop_uploads: Vec<Vec<u8>>,
    /// Idempotency keys sent by twins so far.
    twins: usize,
    /// Makes each minted token distinct (`jti`).
    minted: usize,
}

impl<'a> Stream<'a> {
    fn new(issuer: &'a LocalIssuer, project: String) -> Self {
        let reused_claims = claims_with(json!({ "iss": issuer.issuer }));
        Self {
            issuer,
            project,
            dpop: TestDpopKey::generate(),
            reused: issuer.key.mint(&reused_claims),
            reused_claims,
            requests: Vec::new(),
            dpop_uploads: Vec::new(),
            twins: 0,
            minted: 0,
        }
    }

    /// A new token of this issuer signed by `signer`: valid, with `changes`.
    fn token(&mut self, signer: &TestKey, mut changes: Value) -> String {
        self.minted += 1;
        changes["iss"] = json!(self.issuer.issuer);
        changes["jti"] = json!(format!("token-{}", self.minted));
        signer.mint(&claims_with(changes))
    }

    /// The body of an upload of `entries` entries of `hours` each: one object, or an array.
    fn body(&self, entries: usize, hours: u32) -> String {
        let mut entry = serde_json::to_value(sample_entry(&self.project)).unwrap();
        entry["hours"] = json!(hours);
        if entries == 1 {
            entry.to_string()
        } else {
            Value::Array(vec![entry; entries]).to_string()
        }
    }

    /// Every other request in each API Gateway payload.
    fn payload_format(&self) -> Payload {
        if self.requests.len().is_multiple_of(2) {
            Payload::HttpApiV2
        } else {
            Payload::RestV1
        }
    }

    fn push(&mut self, case: Case, entries: usize, payload: Vec<u8>) {
        self.requests.push(Request {
            case,
            entries,
            payload,
        });
    }

    /// A bearer request with `token` and `body`, and `key` if given.
    fn bearer(&mut self, case: Case, entries: usize, token: &str, body: &str, key: Option<&str>) {
        let event = event_as(
            self.payload_format(),
            &format!("Bearer {token}"),
            None,
            body,
        );
        match key {
            Some(key) => self.push(case, entries, with_key(&event, key)),
            None => self.push(case, entries, event),
        }
    }

    /// An upload of `entries` entries with a valid bearer `token`.
    fn upload(&mut self, token: &str, entries: usize, key: Option<&str>) {
        let body = self.body(entries, 5);
        self.bearer(Case::Upload, entries, token, &body, key);
    }

    /// A refused request: the sample entry with `token`.
    fn refused(&mut self, case: Case, token: &str) {
        let body = self.body(1, 5);
        self.bearer(case, 1, token, &body, None);
    }

    /// An upload with a new DPoP-bound token of `signer` and a fresh proof.
    fn dpop_upload(&mut self, signer: &TestKey) {
        let token = self.token(signer, json!({ "cnf": { "jkt": self.dpop.thumbprint() } }));
        let proof = self.dpop.proof("POST", HTU, &token);
        let body = self.body(1, 5);
        let event = event_as(
            self.payload_format(),
            &format!("DPoP {token}"),
            Some(&proof),
            &body,
        );
        self.dpop_uploads.push(event.clone());
        self.push(Case::DpopUpload, 1, event);
    }

    /// Two requests with a new idempotency key and one body, one after the other: both in
    /// flight at once.
    fn twins(&mut self) {
        let n = self.twins;
        self.twins += 1;
        let (key, body, reused) = (self.twin_key(n), self.body(2, 5), self.reused.clone());
        for _ in 0..2 {
            self.bearer(Case::Twin(n), 2, &reused, &body, Some(&key));
        }
    }

    fn twin_key(&self, n: usize) -> String {
        format!("{}-twin-{n}", self.project)
    }

    /// One of each kind of request, tokens signed by `signer`; `impostor` claims the `kid` of
    /// `signer` without its private key.
    fn round(&mut self, signer: &TestKey, impostor: &TestKey) {
        let reused = self.reused.clone();
        self.upload(&reused, 1, None);
        let fresh = self.token(signer, json!({}));
        self.upload(&fresh, 3, None);
        // The reused token's very header and claims, signed by another key: only the
        // signature tells them apart, also for the verified-token cache.
        let forged = impostor.mint(&self.reused_claims);
        self.refused(Case::BadSignature, &forged);
        let expired = self.token(signer, json!({ "iat": now() - 7200, "exp": now() - 3600 }));
        self.refused(Case::Expired, &expired);
        let reader = self.token(signer, json!({ "scope": "read:timesheets" }));
        self.refused(Case::NoScope, &reader);
        self.dpop_upload(signer);
        let key = format!("{}-new-{}", self.project, self.requests.len());
        self.upload(&reused, 1, Some(&key));
        self.twins();
    }

    /// Requests that need every earlier one answered: each twin key again with its body and
    /// with another, each DPoP upload replayed, and new uploads by `signer` between them.
    fn after(&mut self, signer: &TestKey) {
        let reused = self.reused.clone();
        for n in 0..self.twins {
            let key = self.twin_key(n);
            let same = self.body(2, 5);
            self.bearer(Case::TwinAgain(n), 2, &reused, &same, Some(&key));
            let other = self.body(2, 6);
            self.bearer(Case::OtherBody(n), 2, &reused, &other, Some(&key));
        }
        for replay in std::mem::take(&mut self.dpop_uploads) {
            self.push(Case::ProofReplayed, 1, replay);
            let fresh = self.token(signer, json!({}));
            self.upload(&fresh, 1, None);
        }
    }

    /// The requests built so far, taken out.
    fn take(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }
}

/// Asserts `answer` is the refusal `status` `error` (with `description` if given) and that its
/// `WWW-Authenticate` challenge, if one is called for, holds `challenge`.
fn assert_refused(
    answer: &GatewayAnswer,
    what: &str,
    (status, error, description): (u16, &str, Option<&str>),
    challenge: Option<&str>,
) {
    assert_eq!(
        (answer.status, answer.error()),
        (status, error),
        "{what}: {}",
        answer.description()
    );
    if let Some(description) = description {
        assert_eq!(answer.description(), description, "{what}");
    }
    if let Some(challenge) = challenge {
        let sent = answer.header("www-authenticate").unwrap_or_default();
        assert!(sent.contains(challenge), "{what}: challenge {sent:?}");
    }
}

/// Checks one answer against what its request calls for; a `201`'s ids and body.
fn check(request: &Request, answer: &GatewayAnswer, what: &str) -> Option<Created> {
    let invalid = |rule: TokenRejection| (401, "invalid_token", Some(rule.description()));
    match request.case {
        Case::BadSignature => assert_refused(
            answer,
            what,
            invalid(TokenRejection::Signature),
            Some(r#"error="invalid_token""#),
        ),
        Case::Expired => assert_refused(
            answer,
            what,
            invalid(TokenRejection::Expired),
            Some(r#"error="invalid_token""#),
        ),
        Case::NoScope => assert_refused(
            answer,
            what,
            (403, "insufficient_scope", None),
            Some(r#"scope="batch:upload""#),
        ),
        Case::ProofReplayed => assert_refused(
            answer,
            what,
            (
                401,
                "invalid_dpop_proof",
                Some(ProofRejection::Replayed.description()),
            ),
            Some(r#"DPoP algs="ES256 PS256 RS256", error="invalid_dpop_proof""#),
        ),
        Case::OtherBody(_) => {
            assert_refused(answer, what, (422, "idempotency_key_reused", None), None)
        }
        Case::Upload | Case::DpopUpload | Case::Twin(_) | Case::TwinAgain(_) => {
            assert_eq!(
                (answer.status, answer.error()),
                (201, ""),
                "{what}: {}",
                answer.description()
            );
            let replayed = answer.header(IDEMPOTENT_REPLAYED_HEADER) == Some("true");
            match request.case {
                Case::Upload | Case::DpopUpload => assert!(!replayed, "{what}: replayed"),
                Case::TwinAgain(_) => assert!(replayed, "{what}: not replayed"),
                _ => {}
            }
            let ids: Vec<u64> = if request.entries == 1 {
                vec![answer.body["id"].as_u64().expect("an id")]
            } else {
                answer.body["timesheets"]
                    .as_array()
                    .expect("a batch answer")
                    .iter()
                    .map(|created| created["id"].as_u64().expect("an id"))
                    .collect()
            };
            assert_eq!(ids.len(), request.entries, "{what}: ids {ids:?}");
            return Some(Created {
                ids,
                replayed,
                body: answer.body.clone(),
            });
        }
    }
    None
}

/// Checks each answer, then the twins: of the two sent together one stored and the other
/// replayed it, and the key sent again later was answered the same. The ids stored.
fn check_answers(requests: &[Request], answers: &[(String, GatewayAnswer)]) -> Vec<u64> {
    let mut stored = Vec::new();
    let mut twins: HashMap<usize, Vec<Created>> = HashMap::new();
    let mut again = Vec::new();
    for (request, (id, answer)) in requests.iter().zip(answers) {
        let what = format!("{:?} (request {id})", request.case);
        let Some(created) = check(request, answer, &what) else {
            continue;
        };
        match request.case {
            Case::Twin(n) => twins.entry(n).or_default().push(created),
            Case::TwinAgain(n) => again.push((n, created)),
            _ => stored.extend(created.ids),
        }
    }
    for (n, pair) in &twins {
        let first: Vec<&Created> = pair.iter().filter(|twin| !twin.replayed).collect();
        assert_eq!(first.len(), 1, "twin key {n}: {} of 2 stored", first.len());
        assert!(
            pair.iter().all(|twin| twin.body == first[0].body),
            "twin key {n}: the replay answered other timesheets than the first"
        );
        stored.extend(first[0].ids.iter().copied());
    }
    for (n, created) in again {
        assert_eq!(created.body, twins[&n][0].body, "twin key {n} sent again");
    }
    stored
}

/// Sends `requests` to `process`, `in_flight` at a time; `before` (`(index, f)`) runs `f`
/// just before the request at `index` is handed in, the ones before it still in flight.
fn invoke(
    process: &mut ApiProcess,
    requests: &[Request],
    in_flight: usize,
    before: Option<(usize, &dyn Fn())>,
) -> Vec<(String, GatewayAnswer)> {
    let payloads = requests.iter().enumerate().map(|(index, request)| {
        if let Some((at, f)) = before
            && at == index
        {
            f();
        }
        request.payload.clone()
    });
    tokio::task::block_in_place(|| process.invoke_concurrently(payloads, in_flight))
        .into_iter()
        .map(|answered| (answered.id, GatewayAnswer::parse(&answered.body)))
        .collect()
}

/// One level: a fresh process serving `concurrency` invocations at once, the whole stream.
async fn serve_at(concurrency: usize) {
    let started = Instant::now();
    let in_flight = 2 * concurrency;
    let issuer = LocalIssuer::start(Vec::new(), true).await;
    let next_key = TestKey::generate("key-2");
    // Keys claiming the issuer's kids without their private halves.
    let (impostor_1, impostor_2) = (TestKey::generate("key-1"), TestKey::generate("key-2"));
    let project = unique_project(&format!("ManagedInstances{concurrency}"));
    let mut process = ApiProcess::start(
        &format!("managed-instances-{concurrency}"),
        concurrency,
        &[
            ("AUTH_ISSUER", &issuer.issuer),
            ("AUTH_AUDIENCE", AUDIENCE),
            ("AUTH_DPOP", "allowed"),
            ("AUTH_DPOP_HTU", HTU),
        ],
    );

    let mut stream = Stream::new(&issuer, project.clone());
    for _ in 0..ROUNDS {
        stream.round(&issuer.key, &impostor_1);
    }
    let rotation = stream.requests.len();
    // Right after the rotation, only new key-2 tokens: every slot waits on the refresh.
    for _ in 0..in_flight {
        let fresh = stream.token(&next_key, json!({}));
        stream.upload(&fresh, 1, None);
    }
    for _ in 0..ROUNDS {
        stream.round(&next_key, &impostor_2);
    }
    let mut requests = stream.take();
    let rotate = || {
        let keys = jwk_set(&[&issuer.key, &next_key]).to_string();
        issuer
            .server
            .set(Reply::Delay(ROTATION_DELAY, Box::new(Reply::Json(keys))));
    };
    let mut answers = invoke(
        &mut process,
        &requests,
        in_flight,
        Some((rotation, &rotate)),
    );
    stream.after(&next_key);
    let later = stream.take();
    answers.extend(invoke(&mut process, &later, in_flight, None));
    requests.extend(later);

    assert!(
        process.is_running(),
        "the API process ended while serving {concurrency} at once"
    );
    // Stopped before the table is read: nothing it still had in flight can land afterwards.
    drop(process);
    let stored = check_answers(&requests, &answers);
    assert_eq!(
        issuer.server.hits_for(DISCOVERED_JWKS_PATH),
        2,
        "JWKS fetches at {concurrency} at once: one at init, one for the rotation"
    );
    assert_eq!(issuer.server.hits_for(DISCOVERY_PATH), 1, "discovery");
    let unique: HashSet<u64> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "an id answered twice");
    let mut in_table = stored_ids_with_project(&project).await;
    in_table.sort_unstable();
    let mut answered: Vec<u64> = unique.into_iter().collect();
    answered.sort_unstable();
    assert_eq!(
        in_table, answered,
        "rows in the table against the ids of the 201s that stored"
    );
    eprintln!(
        "{concurrency} at once: {} invocations, {} rows, {:.1?}",
        requests.len(),
        answered.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_serves_a_mixed_stream_at_8_and_16_at_once() {
    for concurrency in LEVELS {
        serve_at(concurrency).await;
    }
}
