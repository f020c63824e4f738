//! The request pipeline of `POST /timesheets/upload`: route → bearer → token (and DPoP proof)
//! → scope → body → store (idempotency record, proof and timesheets in one write) → `201`.
//! Each step's failure is one [`ApiError`].

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use time::OffsetDateTime;
use timesheets::telemetry::metric;

use crate::auth::bearer::{self, Credentials, Scheme};
use crate::auth::dpop::proof::ProofTarget;
use crate::auth::dpop::rejection::ProofRejection;
use crate::auth::dpop::{self, DpopMode, DpopPolicy};
use crate::auth::rejection::TokenRejection;
use crate::auth::scope::UPLOAD_SCOPE;
use crate::auth::verifier::{TokenError, TokenVerifier, VerifiedToken};
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
    dpop: DpopPolicy,
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
    /// The API with its token verifier and timesheet store, bearer tokens only
    /// (`AUTH_DPOP=off`).
    pub fn new(verifier: TokenVerifier, store: S) -> Self {
        Self {
            verifier,
            store,
            dpop: DpopPolicy::default(),
        }
    }

    /// The API taking DPoP-bound tokens as `dpop` says (RFC 9449).
    pub fn with_dpop(mut self, dpop: DpopPolicy) -> Self {
        self.dpop = dpop;
        self
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
        if !token.grants(UPLOAD_SCOPE) {
            auth_failure("insufficient_scope".to_owned());
            return Err(ApiError::InsufficientScope);
        }
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
                Refused::ProofReplayed => refuse_proof(ProofRejection::Replayed),
                Refused::Store(error) => unavailable(error),
            })?;
        Ok((stored, upload))
    }

    async fn authorize(
        &self,
        request: &Request,
    ) -> Result<(VerifiedToken, Option<ProofRecord>), ApiError> {
        let mode = self.dpop.mode;
        let token_in_query = request
            .query_string_parameters_ref()
            .is_some_and(|query| query.first("access_token").is_some());
        let credentials =
            bearer::extract_credentials(request.headers(), token_in_query, mode != DpopMode::Off)
                .map_err(|error| {
                    auth_failure("invalid_request".to_owned());
                    ApiError::InvalidRequest(error.to_string())
                })?
                .ok_or_else(|| {
                    auth_failure("missing_token".to_owned());
                    ApiError::MissingToken(mode)
                })?;
        let token = self
            .verifier
            .verify(credentials.token)
            .await
            .map_err(|error| match error {
                TokenError::Invalid(rejection) => refuse_token(credentials.scheme, rejection),
                TokenError::KeysUnavailable => ApiError::Unavailable("the issuer's signing keys"),
            })?;
        let proof = self.check_binding(request, credentials, &token)?;
        Ok((token, proof))
    }

    /// RFC 9449 §7: the scheme must fit the token (`cnf.jkt` or not) and the mode, and a
    /// DPoP token needs a proof made with its key; its replay record, if so.
    fn check_binding(
        &self,
        request: &Request,
        credentials: Credentials<'_>,
        token: &VerifiedToken,
    ) -> Result<Option<ProofRecord>, ApiError> {
        let refuse = |rejection| refuse_token(Scheme::Dpop, rejection);
        match (self.dpop.mode, credentials.scheme, token.jkt.as_deref()) {
            (DpopMode::Off, _, _) | (DpopMode::Allowed, Scheme::Bearer, None) => Ok(None),
            (_, Scheme::Bearer, Some(_)) => Err(refuse(TokenRejection::DpopBound)),
            (DpopMode::Required, Scheme::Bearer, None) => Err(refuse(TokenRejection::DpopRequired)),
            (_, Scheme::Dpop, None) => Err(refuse(TokenRejection::NotDpopBound)),
            (_, Scheme::Dpop, Some(jkt)) => {
                self.check_proof(request, credentials.token, jkt).map(Some)
            }
        }
    }

    /// The request's one DPoP proof, for this request and the token's key `jkt`; its replay
    /// record, written with the upload (never seen before by any sandbox, or nothing stored).
    fn check_proof(
        &self,
        request: &Request,
        access_token: &str,
        jkt: &str,
    ) -> Result<ProofRecord, ApiError> {
        let rebuilt;
        let url = match &self.dpop.htu {
            Some(configured) => configured,
            None => {
                rebuilt = dpop::target::request_url(request)
                    .ok_or_else(|| refuse_proof(ProofRejection::Htu))?;
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
        let now = OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        let checked =
            dpop::check_bound_proof(proofs, target, jkt, &self.dpop, now).map_err(refuse_proof)?;
        let (proof_id, expires_at) = dpop::replay_record(&checked);
        Ok(ProofRecord {
            proof_id,
            expires_at,
        })
    }
}

/// `invalid_token`, challenged by the scheme the token came with.
fn refuse_token(scheme: Scheme, rejection: TokenRejection) -> ApiError {
    tracing::info!(cause = rejection.cause(), "access token refused");
    auth_failure(rejection.metric_reason());
    match scheme {
        Scheme::Bearer => ApiError::InvalidToken(rejection),
        Scheme::Dpop => ApiError::InvalidDpopToken(rejection),
    }
}

/// `invalid_dpop_proof`.
fn refuse_proof(rejection: ProofRejection) -> ApiError {
    tracing::info!(cause = rejection.cause(), "DPoP proof refused");
    auth_failure(rejection.metric_reason());
    ApiError::InvalidDpopProof(rejection)
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
