//! Why a request was not served: one [`ApiError`] per failing step of the pipeline, each with
//! its status, `error` code and `error_description`. How an error becomes an HTTP response
//! (challenges, `Allow`, `Retry-After`) is the `response` module's work.

use http::StatusCode;

use crate::auth::dpop::DpopMode;
use crate::auth::dpop::rejection::ProofRejection;
use crate::auth::rejection::TokenRejection;
use crate::auth::scope::UPLOAD_SCOPE;

/// Declares [`ErrorKind`] and its table from one list, so [`ErrorKind::ALL`] holds every kind.
macro_rules! error_kinds {
    ($($(#[$doc:meta])* $kind:ident => $status:ident, $code:literal;)+) => {
        /// What an [`ApiError`] answers, without its details: one row of the API's table of
        /// refusals, a status and an `error` code. [`ErrorKind::ALL`] is the whole table, which
        /// `infra/openapi.yaml` and `docs/http-api.md` must list
        /// (`functions/api/tests/documented_answers.rs`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorKind {
            $($(#[$doc])* $kind,)+
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ErrorKind] = &[$(Self::$kind),+];

            /// The HTTP status of this kind.
            pub fn status(self) -> StatusCode {
                match self {
                    $(Self::$kind => StatusCode::$status,)+
                }
            }

            /// The body's `error` code of this kind, e.g. `invalid_token`.
            pub fn code(self) -> &'static str {
                match self {
                    $(Self::$kind => $code,)+
                }
            }
        }
    };
}

error_kinds! {
    /// [`ApiError::MissingToken`].
    MissingToken => UNAUTHORIZED, "missing_token";
    /// [`ApiError::InvalidRequest`].
    InvalidRequest => BAD_REQUEST, "invalid_request";
    /// [`ApiError::InvalidToken`].
    InvalidToken => UNAUTHORIZED, "invalid_token";
    /// [`ApiError::InvalidDpopToken`].
    InvalidDpopToken => UNAUTHORIZED, "invalid_token";
    /// [`ApiError::InvalidDpopProof`].
    InvalidDpopProof => UNAUTHORIZED, "invalid_dpop_proof";
    /// [`ApiError::InsufficientScope`].
    InsufficientScope => FORBIDDEN, "insufficient_scope";
    /// [`ApiError::InvalidBody`].
    InvalidBody => BAD_REQUEST, "invalid_body";
    /// [`ApiError::UnsupportedMediaType`].
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type";
    /// [`ApiError::PayloadTooLarge`].
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "payload_too_large";
    /// [`ApiError::NotFound`].
    NotFound => NOT_FOUND, "not_found";
    /// [`ApiError::MethodNotAllowed`].
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method_not_allowed";
    /// [`ApiError::InvalidIdempotencyKey`].
    InvalidIdempotencyKey => BAD_REQUEST, "invalid_idempotency_key";
    /// [`ApiError::IdempotencyKeyReused`].
    IdempotencyKeyReused => UNPROCESSABLE_ENTITY, "idempotency_key_reused";
    /// [`ApiError::Unavailable`].
    Unavailable => SERVICE_UNAVAILABLE, "temporarily_unavailable";
}

/// Why a request was not served, each mapped to one status and error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No credentials of an accepted scheme: `401`, a bare challenge per scheme the mode
    /// accepts (RFC 6750 §3.1, RFC 9449 §7.1).
    MissingToken(DpopMode),
    /// Malformed credentials: `400 invalid_request` (RFC 6750 §3.1).
    InvalidRequest(String),
    /// Token not acceptable: `401 invalid_token` (RFC 6750 §3.1).
    InvalidToken(TokenRejection),
    /// Token not acceptable where DPoP applies: `401 invalid_token` with a `DPoP` challenge
    /// (RFC 9449 §7.1).
    InvalidDpopToken(TokenRejection),
    /// The DPoP proof is not acceptable: `401 invalid_dpop_proof` (RFC 9449 §7.1).
    InvalidDpopProof(ProofRejection),
    /// Token lacks `batch:upload`: `403 insufficient_scope` (RFC 6750 §3.1).
    InsufficientScope,
    /// Body is not a valid entry: `400 invalid_body`, the description names the field.
    InvalidBody(String),
    /// `Content-Type` is not JSON: `415 unsupported_media_type`.
    UnsupportedMediaType,
    /// Body over the limit: `413 payload_too_large`.
    PayloadTooLarge(usize),
    /// Unknown path: `404 not_found`.
    NotFound,
    /// Known path, other method: `405 method_not_allowed` with `Allow: POST`.
    MethodNotAllowed,
    /// `Idempotency-Key` repeated, empty, too long or not visible ASCII: `400 invalid_idempotency_key`.
    InvalidIdempotencyKey,
    /// The key was used with another body: `422 idempotency_key_reused`.
    IdempotencyKeyReused,
    /// A dependency (issuer keys, DynamoDB) failed: `503 temporarily_unavailable` with `Retry-After`.
    Unavailable(&'static str),
}

impl ApiError {
    /// HTTP status of this error: its kind's.
    pub fn status(&self) -> StatusCode {
        self.kind().status()
    }

    /// Which row of the table of answers this error is ([`ErrorKind::ALL`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::MissingToken(_) => ErrorKind::MissingToken,
            Self::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Self::InvalidToken(_) => ErrorKind::InvalidToken,
            Self::InvalidDpopToken(_) => ErrorKind::InvalidDpopToken,
            Self::InvalidDpopProof(_) => ErrorKind::InvalidDpopProof,
            Self::InsufficientScope => ErrorKind::InsufficientScope,
            Self::InvalidBody(_) => ErrorKind::InvalidBody,
            Self::UnsupportedMediaType => ErrorKind::UnsupportedMediaType,
            Self::PayloadTooLarge(_) => ErrorKind::PayloadTooLarge,
            Self::NotFound => ErrorKind::NotFound,
            Self::MethodNotAllowed => ErrorKind::MethodNotAllowed,
            Self::InvalidIdempotencyKey => ErrorKind::InvalidIdempotencyKey,
            Self::IdempotencyKeyReused => ErrorKind::IdempotencyKeyReused,
            Self::Unavailable(_) => ErrorKind::Unavailable,
        }
    }

    /// Whether this is an authentication or authorization refusal (RFC 6750 §3.1 errors).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Self::MissingToken(_)
                | Self::InvalidRequest(_)
                | Self::InvalidToken(_)
                | Self::InvalidDpopToken(_)
                | Self::InvalidDpopProof(_)
                | Self::InsufficientScope
        )
    }

    /// The `error` code of the body, e.g. `invalid_token`: its kind's.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The `error_description`: one sentence, never a token, a secret or an internal detail.
    pub fn description(&self) -> String {
        match self {
            Self::MissingToken(DpopMode::Off) => {
                "send an access token: Authorization: Bearer <token>".to_owned()
            }
            Self::MissingToken(DpopMode::Allowed) => {
                "send an access token: Authorization: Bearer <token>, or DPoP <token> with a DPoP proof"
                    .to_owned()
            }
            Self::MissingToken(DpopMode::Required) => {
                "send a DPoP-bound access token: Authorization: DPoP <token> with a DPoP proof"
                    .to_owned()
            }
            Self::InvalidRequest(text) | Self::InvalidBody(text) => text.clone(),
            Self::InvalidToken(rejection) | Self::InvalidDpopToken(rejection) => {
                rejection.description().to_owned()
            }
            Self::InvalidDpopProof(rejection) => rejection.description().to_owned(),
            Self::InsufficientScope => format!("the access token lacks the scope {UPLOAD_SCOPE}"),
            Self::UnsupportedMediaType => {
                "send the entry as Content-Type: application/json".to_owned()
            }
            Self::PayloadTooLarge(limit) => format!("the body is larger than {limit} bytes"),
            Self::NotFound => "no such resource; use POST /timesheets/upload".to_owned(),
            Self::MethodNotAllowed => "use POST on /timesheets/upload".to_owned(),
            Self::InvalidIdempotencyKey => {
                "send one Idempotency-Key of 1 to 255 visible ASCII characters, no comma".to_owned()
            }
            Self::IdempotencyKeyReused => {
                "this Idempotency-Key was used with a different body".to_owned()
            }
            Self::Unavailable(what) => format!("{what} is unavailable; retry later"),
        }
    }
}
