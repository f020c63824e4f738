//! The request pipeline of `POST /timesheets/upload`: route → bearer → token → scope → body →
//! store → `201`. Each step's failure is one [`ApiError`].

use lambda_http::{Body, Request, RequestExt, Response};
use timesheets::CreatedTimesheet;

use crate::auth::bearer;
use crate::auth::scope::UPLOAD_SCOPE;
use crate::auth::verifier::{AccessToken, TokenError, TokenVerifier};
use crate::body;
use crate::response::{self, ApiError};
use crate::store::TimesheetStore;

/// The one route of the API.
pub const UPLOAD_PATH: &str = "/timesheets/upload";

/// The API function's shared state: built once per sandbox in `main`, borrowed per invocation.
#[derive(Debug)]
pub struct UploadApi<S> {
    verifier: TokenVerifier,
    store: S,
}

impl<S: TimesheetStore> UploadApi<S> {
    /// The API with its token verifier and timesheet store.
    pub fn new(verifier: TokenVerifier, store: S) -> Self {
        Self { verifier, store }
    }

    /// The store, for tests that look at what was stored.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Serves one request; every outcome is a response, and one log line says which.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let outcome = self.upload(&request).await;
        match outcome {
            Ok((created, client)) => {
                tracing::info!(status = 201, client = %client, timesheet_id = created.id, "timesheet created");
                response::created(&created)
            }
            Err((error, client)) => {
                tracing::info!(
                    status = error.status().as_u16(),
                    error = error.code(),
                    client = client.as_deref().unwrap_or("-"),
                    "upload refused"
                );
                error.into_response()
            }
        }
    }

    async fn upload(
        &self,
        request: &Request,
    ) -> Result<(CreatedTimesheet, String), (ApiError, Option<String>)> {
        route(request).map_err(|error| (error, None))?;
        let token = self
            .authorize(request)
            .await
            .map_err(|error| (error, None))?;
        let client = token.client().to_owned();
        let fail = |error| (error, Some(client.clone()));
        if !token.grants(UPLOAD_SCOPE) {
            return Err(fail(ApiError::InsufficientScope));
        }
        let entry = body::parse_entry(request.headers(), request.body()).map_err(fail)?;
        let id = self.store.create(&entry, &client).await.map_err(|error| {
            tracing::error!(%error, "storing the timesheet failed");
            fail(ApiError::Unavailable("the timesheet store"))
        })?;
        Ok((CreatedTimesheet::new(id, &entry.user_id), client))
    }

    async fn authorize(&self, request: &Request) -> Result<AccessToken, ApiError> {
        let token_in_query = request
            .query_string_parameters_ref()
            .is_some_and(|query| query.first("access_token").is_some());
        let token = bearer::extract(request.headers(), token_in_query)
            .map_err(|error| ApiError::InvalidRequest(error.to_string()))?
            .ok_or(ApiError::MissingToken)?;
        self.verifier
            .verify(token)
            .await
            .map_err(|error| match error {
                TokenError::Invalid { cause, description } => {
                    tracing::info!(cause, "access token refused");
                    ApiError::InvalidToken(description.to_owned())
                }
                TokenError::KeysUnavailable => ApiError::Unavailable("the issuer's signing keys"),
            })
    }
}

/// `404` for other paths, `405` for other methods on the upload path. The path is the one
/// without the API Gateway stage (`/prod/timesheets/upload` routes too).
fn route(request: &Request) -> Result<(), ApiError> {
    let path = request.raw_http_path();
    let path = if path.is_empty() {
        request.uri().path()
    } else {
        path
    };
    if path.trim_end_matches('/') != UPLOAD_PATH {
        return Err(ApiError::NotFound);
    }
    if request.method() != http::Method::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    Ok(())
}
