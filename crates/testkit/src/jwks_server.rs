//! A scripted stand-in for an issuer's JWKS and discovery endpoints, served by `wiremock` on
//! 127.0.0.1; it counts the requests it receives so tests can assert on fetch behaviour.
//!
//! Every path gets the default reply unless [`JwksServer::route`] gave it its own. The script
//! (default reply, routes, counts) sits behind one catch-all wiremock responder instead of
//! per-path mocks: [`JwksServer::set`], [`JwksServer::route`] and the counts are synchronous
//! calls in the middle of async tests, and wiremock mounts mocks and lists received requests
//! only asynchronously.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the server answers to the next requests. Every answer is `application/json`.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `200` with this JSON body.
    Json(String),
    /// This status with an empty JSON object.
    Status(u16),
    /// `200` with a body that is not JSON.
    Garbage,
    /// Waits this long, then answers as the inner reply.
    Delay(Duration, Box<Reply>),
    /// `200` with a JSON body of about this many bytes.
    Huge(usize),
}

impl Reply {
    /// The answer, waiting the sum of the delays around it.
    fn template(&self) -> ResponseTemplate {
        let mut wait = Duration::ZERO;
        let mut reply = self;
        while let Self::Delay(delay, inner) = reply {
            wait += *delay;
            reply = inner;
        }
        let (status, body) = match reply {
            Self::Json(body) => (200, body.clone()),
            Self::Status(status) => (*status, "{}".to_owned()),
            Self::Garbage => (200, "<html>not a key set</html>".to_owned()),
            Self::Huge(size) => (
                200,
                format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(*size)),
            ),
            Self::Delay(..) => unreachable!("delays are unwrapped above"),
        };
        let template = ResponseTemplate::new(status).set_body_raw(body, "application/json");
        if wait.is_zero() {
            template
        } else {
            template.set_delay(wait)
        }
    }
}

/// The replies and the requests counted so far.
#[derive(Debug)]
struct Script {
    reply: Reply,
    routes: HashMap<String, Reply>,
    hits: usize,
    hits_by_path: HashMap<String, usize>,
}

/// The catch-all responder: counts the request, then answers as the script says for its path.
#[derive(Debug, Clone)]
struct Scripted(Arc<Mutex<Script>>);

impl Scripted {
    fn script(&self) -> MutexGuard<'_, Script> {
        self.0.lock().expect("script lock")
    }
}

impl Respond for Scripted {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let mut script = self.script();
        script.hits += 1;
        *script.hits_by_path.entry(path.to_owned()).or_default() += 1;
        let reply = script.routes.get(path).unwrap_or(&script.reply);
        reply.template()
    }
}

/// The running server; it stops when dropped.
#[derive(Debug)]
pub struct JwksServer {
    server: MockServer,
    script: Scripted,
}

impl JwksServer {
    /// Starts on a free port of 127.0.0.1, answering every request with `reply`.
    pub async fn start(reply: Reply) -> Self {
        let script = Scripted(Arc::new(Mutex::new(Script {
            reply,
            routes: HashMap::new(),
            hits: 0,
            hits_by_path: HashMap::new(),
        })));
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(script.clone())
            .mount(&server)
            .await;
        Self { server, script }
    }

    /// Changes what the next requests get (on paths without a [`JwksServer::route`]).
    pub fn set(&self, reply: Reply) {
        self.script.script().reply = reply;
    }

    /// Answers requests for `path` (e.g. `/.well-known/openid-configuration`, query ignored)
    /// with `reply` from now on.
    pub fn route(&self, path: &str, reply: Reply) {
        self.script.script().routes.insert(path.to_owned(), reply);
    }

    /// Requests received so far, all paths.
    pub fn hits(&self) -> usize {
        self.script.script().hits
    }

    /// Requests received so far for `path` (query ignored).
    pub fn hits_for(&self, path: &str) -> usize {
        let script = self.script.script();
        script.hits_by_path.get(path).copied().unwrap_or(0)
    }

    /// `http://127.0.0.1:<port>/` — use as a loopback issuer URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.server.address())
    }

    /// `http://127.0.0.1:<port>/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}.well-known/jwks.json", self.base_url())
    }
}
