//! Every kind of answer of the API as API Gateway hands it to the client. Each request goes in
//! as a REST API event (payload 1.0), an HTTP API event with payload 1.0 and one with payload
//! 2.0, through `timesheets_api::event::handle` (lambda_http's conversion and response
//! serialiser, as in production); the headers are then read as the gateway passes them on:
//!
//! - payload 1.0: `headers` and `multiValueHeaders` merged, one field line per value (a pair
//!   in both is sent once);
//! - payload 2.0: `headers` only, one value per name; the format has no `multiValueHeaders`.
//!
//! Each answer's `WWW-Authenticate`, `Allow`, `Retry-After`, `Idempotent-Replayed`,
//! `DPoP-Nonce` (never sent: the API asks for no nonce) and `Content-Type` must reach the
//! client whole, as one field line.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::*;
use jwt_access_token::{DpopMode, DpopPolicy};
use lambda_http::{Context, LambdaEvent};
use serde_json::{Map, Value, json};
use testkit::keys::now;
use testkit::{Reply, TestDpopKey};
use timesheets_api::error::ErrorKind;

/// The response headers looked at, lower case.
const HEADERS: [&str; 6] = [
    "www-authenticate",
    "allow",
    "retry-after",
    "idempotent-replayed",
    "dpop-nonce",
    "content-type",
];
const ALGS: &str = "ES256 PS256 RS256";
/// Stands for the body's `error_description` in an expected challenge.
const DESCRIPTION: &str = "{description}";

/// How the request reaches the function.
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// REST API (API Gateway v1), stage `prod`: payload 1.0.
    Rest,
    /// HTTP API with payload format 1.0.
    HttpV1,
    /// HTTP API with payload format 2.0, the stack's.
    HttpV2,
}

const ORIGINS: [Origin; 3] = [Origin::Rest, Origin::HttpV1, Origin::HttpV2];

impl Origin {
    fn template(self) -> &'static str {
        match self {
            Self::Rest => "rest-api-v1-stage.json",
            Self::HttpV1 => "http-api-v1-payload.json",
            Self::HttpV2 => "upload.json",
        }
    }
}

/// The API's configuration and state before the request.
#[derive(Debug, Clone, Copy)]
enum World {
    /// `AUTH_DPOP` as given, the issuer's keys served.
    Dpop(DpopMode),
    /// The issuer's JWKS answers 500.
    KeysDown,
}

/// The tokens of the cases, each minted by the harness's issuer key when the case runs.
#[derive(Debug, Clone, Copy)]
enum Token {
    Valid,
    Expired,
    /// Bound to a DPoP key (`cnf.jkt`).
    Bound,
    /// Without `batch:upload`.
    Unscoped,
}

impl Token {
    fn mint(self, harness: &Harness) -> String {
        let changes = match self {
            Self::Valid => json!({}),
            Self::Expired => json!({"exp": now() - 60, "iat": now() - 3660}),
            Self::Bound => json!({"cnf": {"jkt": TestDpopKey::generate().thumbprint()}}),
            Self::Unscoped => json!({"scope": "batch:read"}),
        };
        harness.key.mint(&claims_with(changes))
    }
}

/// The `Authorization` header of a request.
#[derive(Debug, Clone, Copy)]
enum Auth {
    None,
    Bearer(Token),
    Dpop(Token),
    /// This value as it is.
    Raw(&'static str),
}

/// One request: method, path, `Authorization`, other headers (beyond the template's host and
/// forwarding ones) and body.
#[derive(Debug, Clone)]
struct Call {
    method: &'static str,
    path: &'static str,
    auth: Auth,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Call {
    /// `POST /timesheets/upload` of the sample entry as JSON with `auth`.
    fn upload(auth: Auth) -> Self {
        Self {
            method: "POST",
            path: "/timesheets/upload",
            auth,
            headers: vec![("content-type", "application/json".to_owned())],
            body: SAMPLE.to_owned(),
        }
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.retain(|(existing, _)| *existing != name);
        self.headers.push((name, value.to_owned()));
        self
    }

    fn with_body(mut self, body: String) -> Self {
        self.body = body;
        self
    }

    /// This request as `origin` delivers it, its token minted by `harness`.
    fn event(&self, origin: Origin, harness: &Harness) -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../events")
            .join(origin.template());
        let text = std::fs::read_to_string(&path).expect("the event template");
        let mut event: Value = serde_json::from_str(&text).expect("event is JSON");
        let mut headers: Map<String, Value> = event["headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| {
                !["authorization", "content-type", "content-length"].contains(&name.as_str())
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        for (name, value) in &self.headers {
            headers.insert((*name).to_owned(), json!(value));
        }
        let authorization = match self.auth {
            Auth::None => None,
            Auth::Bearer(token) => Some(format!("Bearer {}", token.mint(harness))),
            Auth::Dpop(token) => Some(format!("DPoP {}", token.mint(harness))),
            Auth::Raw(value) => Some(value.to_owned()),
        };
        if let Some(value) = authorization {
            headers.insert("authorization".to_owned(), json!(value));
        }
        event["body"] = json!(self.body);
        match origin {
            Origin::Rest | Origin::HttpV1 => {
                let multi: Map<String, Value> = headers
                    .iter()
                    .map(|(name, value)| (name.clone(), json!([value])))
                    .collect();
                event["multiValueHeaders"] = Value::Object(multi);
                event["httpMethod"] = json!(self.method);
                event["requestContext"]["httpMethod"] = json!(self.method);
                event["path"] = json!(self.path);
                event["resource"] = json!(self.path);
                event["requestContext"]["resourcePath"] = json!(self.path);
                let stage_path = match origin {
                    Origin::Rest => format!("/prod{}", self.path),
                    _ => self.path.to_owned(),
                };
                event["requestContext"]["path"] = json!(stage_path);
            }
            Origin::HttpV2 => {
                event["rawPath"] = json!(self.path);
                event["routeKey"] = json!("$default");
                event["requestContext"]["routeKey"] = json!("$default");
                event["requestContext"]["http"]["method"] = json!(self.method);
                event["requestContext"]["http"]["path"] = json!(self.path);
            }
        }
        event["headers"] = Value::Object(headers);
        event
    }
}

/// One kind of answer: the world, what is sent first, the request, and what the client must
/// receive.
struct Case {
    name: &'static str,
    world: World,
    /// Sent before `call`, on the same API, answers not looked at.
    before: Vec<Call>,
    call: Call,
    status: u64,
    /// The body's `error`; `None` for a `201`.
    error: Option<&'static str>,
    /// The headers of [`HEADERS`] the client receives, each as one field line; the others
    /// must be absent. [`DESCRIPTION`] stands for the body's `error_description`.
    headers: Vec<(&'static str, String)>,
}

fn json_only() -> Vec<(&'static str, String)> {
    vec![("content-type", "application/json".to_owned())]
}

fn json_and(name: &'static str, value: String) -> Vec<(&'static str, String)> {
    let mut headers = json_only();
    headers.push((name, value));
    headers
}

fn bearer_error(code: &str) -> String {
    format!(r#"Bearer realm="timesheets", error="{code}", error_description="{DESCRIPTION}""#)
}

fn dpop_error(code: &str) -> String {
    format!(r#"DPoP algs="{ALGS}", error="{code}", error_description="{DESCRIPTION}""#)
}

/// Every kind of answer the API gives.
fn cases() -> Vec<Case> {
    let valid = || Call::upload(Auth::Bearer(Token::Valid));
    let off = World::Dpop(DpopMode::Off);
    let allowed = World::Dpop(DpopMode::Allowed);
    let required = World::Dpop(DpopMode::Required);
    let case = |name, world, call, status, error, headers| Case {
        name,
        world,
        before: Vec::new(),
        call,
        status,
        error,
        headers,
    };
    vec![
        case("created", off, valid(), 201, None, json_only()),
        Case {
            before: vec![valid().with_header("idempotency-key", "run-1/0")],
            ..case(
                "replayed",
                off,
                valid().with_header("idempotency-key", "run-1/0"),
                201,
                None,
                json_and("idempotent-replayed", "true".to_owned()),
            )
        },
        case(
            "no token",
            off,
            Call::upload(Auth::None),
            401,
            Some("missing_token"),
            json_and(
                "www-authenticate",
                r#"Bearer realm="timesheets""#.to_owned(),
            ),
        ),
        case(
            "no token, DPoP allowed: both challenges",
            allowed,
            Call::upload(Auth::None),
            401,
            Some("missing_token"),
            json_and(
                "www-authenticate",
                format!(r#"Bearer realm="timesheets", DPoP algs="{ALGS}""#),
            ),
        ),
        case(
            "no token, DPoP required",
            required,
            Call::upload(Auth::None),
            401,
            Some("missing_token"),
            json_and("www-authenticate", format!(r#"DPoP algs="{ALGS}""#)),
        ),
        case(
            "malformed Authorization",
            off,
            Call::upload(Auth::Raw("Bearer a b")),
            400,
            Some("invalid_request"),
            json_and("www-authenticate", bearer_error("invalid_request")),
        ),
        case(
            "expired token",
            off,
            Call::upload(Auth::Bearer(Token::Expired)),
            401,
            Some("invalid_token"),
            json_and("www-authenticate", bearer_error("invalid_token")),
        ),
        case(
            "bound token sent as Bearer",
            allowed,
            Call::upload(Auth::Bearer(Token::Bound)),
            401,
            Some("invalid_token"),
            json_and("www-authenticate", dpop_error("invalid_token")),
        ),
        case(
            "bearer token, DPoP required",
            required,
            valid(),
            401,
            Some("invalid_token"),
            json_and("www-authenticate", dpop_error("invalid_token")),
        ),
        case(
            "DPoP token without a proof",
            allowed,
            Call::upload(Auth::Dpop(Token::Bound)),
            401,
            Some("invalid_dpop_proof"),
            json_and("www-authenticate", dpop_error("invalid_dpop_proof")),
        ),
        case(
            "token without the scope",
            off,
            Call::upload(Auth::Bearer(Token::Unscoped)),
            403,
            Some("insufficient_scope"),
            json_and(
                "www-authenticate",
                format!(
                    r#"{}, scope="batch:upload""#,
                    bearer_error("insufficient_scope")
                ),
            ),
        ),
        case(
            "body rule broken",
            off,
            valid().with_body(SAMPLE.replace("\"hours\": 5", "\"hours\": 0")),
            400,
            Some("invalid_body"),
            json_only(),
        ),
        case(
            "not JSON",
            off,
            valid().with_header("content-type", "text/plain"),
            415,
            Some("unsupported_media_type"),
            json_only(),
        ),
        case(
            "body over 64 KiB",
            off,
            valid().with_body(format!("[{}]", vec![SAMPLE; 1000].join(","))),
            413,
            Some("payload_too_large"),
            json_only(),
        ),
        case(
            "malformed Idempotency-Key",
            off,
            valid().with_header("idempotency-key", ""),
            400,
            Some("invalid_idempotency_key"),
            json_only(),
        ),
        Case {
            before: vec![valid().with_header("idempotency-key", "run-2/0")],
            ..case(
                "key reused with another body",
                off,
                valid()
                    .with_header("idempotency-key", "run-2/0")
                    .with_body(SAMPLE.replace("StoreZero", "StoreOne")),
                422,
                Some("idempotency_key_reused"),
                json_only(),
            )
        },
        case(
            "issuer keys unavailable",
            World::KeysDown,
            valid(),
            503,
            Some("temporarily_unavailable"),
            json_and("retry-after", "5".to_owned()),
        ),
        case(
            "another path",
            off,
            Call {
                path: "/timesheets/download",
                ..valid()
            },
            404,
            Some("not_found"),
            json_only(),
        ),
        case(
            "another method",
            off,
            Call {
                method: "PUT",
                ..valid()
            },
            405,
            Some("method_not_allowed"),
            json_and("allow", "POST".to_owned()),
        ),
    ]
}

async fn harness(world: World) -> Harness {
    let mode = match world {
        World::Dpop(mode) => mode,
        World::KeysDown => DpopMode::Off,
    };
    let harness = Harness::with(Setup {
        dpop: DpopPolicy {
            mode,
            ..DpopPolicy::default()
        },
        ..Setup::default()
    })
    .await;
    match world {
        World::KeysDown => harness.server.set(Reply::Status(500)),
        World::Dpop(_) => {}
    }
    harness
}

async fn invoke(harness: &Harness, call: &Call, origin: Origin) -> Value {
    let event = LambdaEvent::new(call.event(origin, harness), Context::default());
    timesheets_api::event::handle(&harness.api, event).await
}

/// The field lines of header `name` the client receives from the serialised answer `raw`.
fn received(raw: &Value, origin: Origin, name: &str) -> Vec<String> {
    let named = |field: &str| -> Vec<Value> {
        raw[field]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
            .collect()
    };
    let text = |value: &Value| {
        value
            .as_str()
            .expect("a header value is a string")
            .to_owned()
    };
    let single: Vec<String> = named("headers").iter().map(text).collect();
    match origin {
        Origin::HttpV2 => single,
        Origin::Rest | Origin::HttpV1 => {
            let mut lines: Vec<String> = named("multiValueHeaders")
                .iter()
                .flat_map(|values| values.as_array().expect("a list of values").clone())
                .map(|value| text(&value))
                .collect();
            for value in single {
                if !lines.contains(&value) {
                    lines.push(value);
                }
            }
            lines
        }
    }
}

/// What is wrong with the answer `raw` to `case` from `origin`, if anything.
fn check(case: &Case, origin: Origin, raw: &Value) -> Result<(), String> {
    let status = raw["statusCode"].as_u64();
    let body: Value = serde_json::from_str(raw["body"].as_str().unwrap_or("null"))
        .map_err(|error| format!("body not JSON: {error}"))?;
    if status != Some(case.status) || body["error"].as_str() != case.error {
        return Err(format!("got {status:?} {body}"));
    }
    let description = body["error_description"].as_str().unwrap_or_default();
    for name in HEADERS {
        let expected: Vec<String> = case
            .headers
            .iter()
            .filter(|(expected, _)| *expected == name)
            .map(|(_, value)| value.replace(DESCRIPTION, description))
            .collect();
        let lines = received(raw, origin, name);
        if lines != expected {
            return Err(format!("{name}: expected {expected:?}, received {lines:?}"));
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_answer_reaches_the_client_whole_through_api_gateway() {
    let mut failures = Vec::new();
    let mut answered = BTreeSet::new();
    for origin in ORIGINS {
        for case in cases() {
            let harness = harness(case.world).await;
            for before in &case.before {
                invoke(&harness, before, origin).await;
            }
            let raw = invoke(&harness, &case.call, origin).await;
            match check(&case, origin, &raw) {
                Ok(()) => {
                    if let Some(error) = case.error {
                        answered.insert((case.status as u16, error));
                    }
                }
                Err(why) => failures.push(format!("{origin:?}, {}: {why}", case.name)),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} answer(s) not received as sent:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let table: BTreeSet<(u16, &str)> = ErrorKind::ALL
        .iter()
        .map(|kind| (kind.status().as_u16(), kind.code()))
        .collect();
    assert_eq!(
        answered, table,
        "a case per row of the API's table of answers"
    );
}
