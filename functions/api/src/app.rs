//! The request pipeline of `POST /timesheets/upload`: route → authorize (bearer or DPoP, one
//! call into the verifier) → scope → body → store (idempotency record, DPoP proof record and
//! timesheets in one write) → `201`. Each step's failure is one [`ApiError`].

use jwt_access_token::{AuthorizeError, ProofRejection, TokenVerifier, VerifiedToken};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use time::OffsetDateTime;
use timesheets::telemetry::metric;

use crate::UPLOAD_SCOPE;
use crate::body::{self, Upload};
use crate::error::ApiError;
use crate::idempotency::{self, Refused, Stored};
use crate::response;
use crate::store::{ProofRecord, StoreError, TimesheetStore};

/// The one route of the API.
pub const UPLOAD_PATH: &str = "/timesheets/upload";

/// The API function's shared state: built once per sandbox in `main`, borrowed per invocation.
#[derive(Debug)]
pub struct UploadApi<S> {
    verifier: TokenVerifier,
    store: S,
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
            Ok((token, proof)) => Outcome {
                client: Some(token.client().to_owned()),
                result: self.serve(request, &token, proof.as_ref()).await,
            },
            Err(error) => Outcome {
                client: None,
                result: Err(error),
            },
        }
    }

    /// Route and token: who is asking, and the replay record of their DPoP proof.
    async fn admit(
        &self,
        request: &Request,
    ) -> Result<(VerifiedToken, Option<ProofRecord>), ApiError> {
        route(request)?;
        self.authorize(request).await
    }

    /// Scope, body, store: what the verified client asks for.
    async fn serve(
        &self,
        request: &Request,
        token: &VerifiedToken,
        proof: Option<&ProofRecord>,
    ) -> Result<(Stored, Upload), ApiError> {
        token.require_scope(UPLOAD_SCOPE).map_err(refuse)?;
        let upload = body::parse_upload(request.headers(), request.body())?;
        let key = idempotency::header::key(request.headers())?;
        let sent = idempotency::Request {
            entries: &upload.entries,
            client_id: token.client(),
            key: key.as_deref(),
            body: body::bytes(request.body()),
            proof,
        };
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let stored = idempotency::store(&self.store, sent, now)
            .await
            .map_err(|refused| match refused {
                Refused::Reused => ApiError::IdempotencyKeyReused,
                Refused::ProofReplayed => {
                    refuse(AuthorizeError::InvalidDpopProof(ProofRejection::Replayed))
                }
                Refused::Store(error) => unavailable(error),
            })?;
        Ok((stored, upload))
    }

    /// The request's access token, one call into the verifier, and its DPoP proof's replay
    /// record, which the upload writes in its one transaction (remembered across every
    /// sandbox; a replay stores nothing and is refused then).
    async fn authorize(
        &self,
        request: &Request,
    ) -> Result<(VerifiedToken, Option<ProofRecord>), ApiError> {
        self.verifier
            .authorize_deferring_replay(request)
            .await
            .map_err(refuse)
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
