//! The request pipeline of `POST /timesheets/upload`: route → authorize (bearer or DPoP, one
//! call into the verifier) → scope → body → idempotency → store → `201`. Each step's failure
//! is one [`ApiError`].

use std::future::Future;

use jwt_access_token::{AuthorizeError, ProofReplay, TokenVerifier, VerifiedToken};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use time::OffsetDateTime;
use timesheets::telemetry::metric;

use crate::UPLOAD_SCOPE;
use crate::body::{self, Upload};
use crate::error::ApiError;
use crate::idempotency::{self, Decision};
use crate::response;
use crate::store::{Insert, StoreError, TimesheetStore};

/// The one route of the API.
pub const UPLOAD_PATH: &str = "/timesheets/upload";

/// The API function's shared state: built once per sandbox in `main`, borrowed per invocation.
#[derive(Debug)]
pub struct UploadApi<S> {
    verifier: TokenVerifier,
    store: S,
}

/// A stored upload: its first id and whether this answer repeats an earlier one.
struct Stored {
    first_id: u64,
    replayed: bool,
}

/// One request's result and who made it, for its one log line.
struct Outcome {
    /// The verified token's client; `None` when refused before the token was verified.
    client: Option<String>,
    result: Result<(Stored, Upload), ApiError>,
}

impl Outcome {
    /// Logs and counts the outcome, then answers it.
    fn into_response(self) -> Response<Body> {
        let client = self.client.as_deref().unwrap_or("-");
        match self.result {
            Ok((stored, upload)) => {
                let count = upload.entries.len() as u64;
                tracing::info!(
                    status = 201,
                    client,
                    first_timesheet_id = stored.first_id,
                    last_timesheet_id = stored.first_id + count - 1,
                    replayed = stored.replayed,
                    "timesheets created"
                );
                if !stored.replayed {
                    metrics::counter!(metric::UPLOADS_CREATED).increment(count);
                }
                response::created(stored.first_id, &upload, stored.replayed)
            }
            Err(error) => {
                tracing::info!(
                    status = error.status().as_u16(),
                    error = error.code(),
                    client,
                    "upload refused"
                );
                if !error.is_auth() {
                    metrics::counter!(metric::UPLOADS_REFUSED, "Error" => error.code())
                        .increment(1);
                }
                error.into_response()
            }
        }
    }
}

impl<S: TimesheetStore> UploadApi<S> {
    /// The API with its token verifier (which holds the `AUTH_DPOP` policy) and timesheet
    /// store.
    pub fn new(verifier: TokenVerifier, store: S) -> Self {
        Self { verifier, store }
    }

    /// The token verifier, e.g. to fetch the issuer's keys during init.
    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    /// The store, for tests that look at what was stored.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Serves one request; every outcome is a response, and one log line says which.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        self.upload(&request).await.into_response()
    }

    async fn upload(&self, request: &Request) -> Outcome {
        match self.admit(request).await {
            Ok(token) => Outcome {
                client: Some(token.client().to_owned()),
                result: self.serve(request, &token).await,
            },
            Err(error) => Outcome {
                client: None,
                result: Err(error),
            },
        }
    }

    /// Route and token: who is asking.
    async fn admit(&self, request: &Request) -> Result<VerifiedToken, ApiError> {
        route(request)?;
        self.authorize(request).await
    }

    /// Scope, body, idempotency key, store: what the verified client asks for.
    async fn serve(
        &self,
        request: &Request,
        token: &VerifiedToken,
    ) -> Result<(Stored, Upload), ApiError> {
        token.require_scope(UPLOAD_SCOPE).map_err(refuse)?;
        let client = token.client();
        let upload = body::parse_upload(request.headers(), request.body())?;
        let key = idempotency::header::key(request.headers())?;
        let stored = match key {
            None => self.store_new(&upload, client).await,
            Some(key) => self.store_once(&upload, client, &key, request.body()).await,
        }?;
        Ok((stored, upload))
    }

    async fn store_new(&self, upload: &Upload, client: &str) -> Result<Stored, ApiError> {
        let count = upload.entries.len() as u64;
        let first_id = self.store.reserve_ids(count).await.map_err(unavailable)?;
        let insert = self.store.insert_all(first_id, &upload.entries, client);
        match insert.await.map_err(unavailable)? {
            Insert::Stored => Ok(Stored {
                first_id,
                replayed: false,
            }),
            Insert::AlreadyStored => Err(unavailable(StoreError::IdsTaken { first_id })),
        }
    }

    async fn store_once(
        &self,
        upload: &Upload,
        client: &str,
        key: &str,
        body: &Body,
    ) -> Result<Stored, ApiError> {
        let scope_key = idempotency::scope_key(client, key);
        let fingerprint = idempotency::fingerprint(body::bytes(body));
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let count = upload.entries.len() as u64;
        let decision = idempotency::begin(&self.store, &scope_key, &fingerprint, count, now)
            .await
            .map_err(unavailable)?;
        let (first_id, taken_over) = match decision {
            Decision::Proceed(first_id) => (first_id, false),
            Decision::TakeOver(first_id) => (first_id, true),
            Decision::Replay(first_id) => {
                return Ok(Stored {
                    first_id,
                    replayed: true,
                });
            }
            Decision::InFlight => return Err(ApiError::IdempotencyKeyInUse),
            Decision::Reused => return Err(ApiError::IdempotencyKeyReused),
        };
        let insert = self.store.insert_all(first_id, &upload.entries, client);
        match insert.await {
            Ok(Insert::Stored) => Ok(Stored {
                first_id,
                replayed: false,
            }),
            // The earlier attempt whose ids this request took over was only slow.
            Ok(Insert::AlreadyStored) if taken_over => Ok(Stored {
                first_id,
                replayed: true,
            }),
            // Another writer holds these ids: forget them, so the retry reserves new ones.
            Ok(Insert::AlreadyStored) => {
                if let Err(release) = self.store.release(&scope_key).await {
                    tracing::warn!(error = %release, "releasing the idempotency key failed");
                }
                Err(unavailable(StoreError::IdsTaken { first_id }))
            }
            // It may have landed: keep the ids, so the retry stores under them or replays.
            Err(error) => {
                if let Err(abandon) = idempotency::abandon(&self.store, &scope_key, now).await {
                    tracing::warn!(error = %abandon, "ending the idempotency claim failed");
                }
                Err(unavailable(error))
            }
        }
    }

    /// The request's access token, one call into the verifier; DPoP proofs are remembered in
    /// the table, across every sandbox.
    async fn authorize(&self, request: &Request) -> Result<VerifiedToken, ApiError> {
        let replay = ProofRecords(&self.store);
        self.verifier
            .authorize_with_replay(request, &replay)
            .await
            .map_err(refuse)
    }
}

/// The store's DPoP proof records (RFC 9449 §11.1), as the verifier asks for them.
struct ProofRecords<'a, S>(&'a S);

impl<S: TimesheetStore> ProofReplay for ProofRecords<'_, S> {
    type Error = StoreError;

    fn first_use(
        &self,
        proof_id: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.0.record_proof(proof_id, expires_at)
    }
}

/// A refused access token: logged by its cause, counted unless the verifier could not decide.
fn refuse(error: AuthorizeError) -> ApiError {
    match error {
        AuthorizeError::KeysUnavailable => ApiError::Unavailable("the issuer's signing keys"),
        AuthorizeError::ReplayUnavailable => ApiError::Unavailable("the timesheet store"),
        refused => {
            tracing::info!(reason = %refused.reason(), "access token refused");
            auth_failure(refused.reason());
            ApiError::Refused(refused)
        }
    }
}

/// Counts a refusal by its reason, e.g. `invalid_token:expired`.
fn auth_failure(reason: String) {
    metrics::counter!(metric::AUTH_FAILURES, "Reason" => reason).increment(1);
}

fn unavailable(error: StoreError) -> ApiError {
    tracing::error!(%error, "timesheet store failed");
    ApiError::Unavailable("the timesheet store")
}

/// `404` for other paths, `405` for other methods on the upload path. The path is the one
/// without the API Gateway stage (`/prod/timesheets/upload` routes too); behind a REST API
/// custom domain with a base-path mapping, the path carries the base path, so the API
/// resource's own path (`requestContext.resourcePath`) routes too.
fn route(request: &Request) -> Result<(), ApiError> {
    let path = request.raw_http_path();
    let path = if path.is_empty() {
        request.uri().path()
    } else {
        path
    };
    let resource_path = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => context.resource_path.as_deref(),
        _ => None,
    };
    let is_upload = |path: &str| path.trim_end_matches('/') == UPLOAD_PATH;
    if !is_upload(path) && !resource_path.is_some_and(is_upload) {
        return Err(ApiError::NotFound);
    }
    if request.method() != http::Method::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    Ok(())
}
