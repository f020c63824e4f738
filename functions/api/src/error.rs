//! Why a request was not served: one [`ApiError`] per failing step of the pipeline, each with
//! its status, `error` code and `error_description`. How an error becomes an HTTP response
//! (challenges, `Allow`, `Retry-After`) is the `response` module's work.

use http::StatusCode;

use jwt_access_token::AuthorizeError;

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
    /// [`ApiError::Refused`] with [`AuthorizeError::MissingToken`].
    MissingToken => UNAUTHORIZED, "missing_token";
    /// [`ApiError::Refused`] with [`AuthorizeError::InvalidRequest`].
    InvalidRequest => BAD_REQUEST, "invalid_request";
    /// [`ApiError::Refused`] with [`AuthorizeError::InvalidToken`].
    InvalidToken => UNAUTHORIZED, "invalid_token";
    /// [`ApiError::Refused`] with [`AuthorizeError::InvalidDpopToken`].
    InvalidDpopToken => UNAUTHORIZED, "invalid_token";
    /// [`ApiError::Refused`] with [`AuthorizeError::InvalidDpopProof`].
    InvalidDpopProof => UNAUTHORIZED, "invalid_dpop_proof";
    /// [`ApiError::Refused`] with [`AuthorizeError::InsufficientScope`] or
    /// [`AuthorizeError::InsufficientDpopScope`].
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
    /// The access token refused, or its credentials malformed, or its scope short: `400`,
    /// `401` or `403` with its challenge (RFC 6750 §3.1, RFC 9449 §7.1), as the verifier
    /// answers it.
    Refused(AuthorizeError),
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
            Self::Refused(refused) => match refused {
                AuthorizeError::MissingToken(_) => ErrorKind::MissingToken,
                AuthorizeError::InvalidRequest(_) => ErrorKind::InvalidRequest,
                AuthorizeError::InvalidToken(_) => ErrorKind::InvalidToken,
                AuthorizeError::InvalidDpopToken(_) => ErrorKind::InvalidDpopToken,
                AuthorizeError::InvalidDpopProof(_) => ErrorKind::InvalidDpopProof,
                AuthorizeError::InsufficientScope(_) | AuthorizeError::InsufficientDpopScope(_) => {
                    ErrorKind::InsufficientScope
                }
                AuthorizeError::KeysUnavailable | AuthorizeError::ReplayUnavailable => {
                    ErrorKind::Unavailable
                }
            },
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
        matches!(self, Self::Refused(_)) && self.kind() != ErrorKind::Unavailable
    }

    /// The `error` code of the body, e.g. `invalid_token`: its kind's.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The `error_description`: one sentence, never a token, a secret or an internal detail.
    pub fn description(&self) -> String {
        match self {
            Self::Refused(refused) => refused.description(),
            Self::InvalidBody(text) => text.clone(),
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
