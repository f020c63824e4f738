//! A scripted HTTP/1.1 proxy on 127.0.0.1 for fault injection, between the job and a server of
//! the local stack (the API, or the issuer's token endpoint).
//!
//! The n-th request that reaches the proxy gets the n-th [`Step`] of its script, and
//! [`Step::Forward`] once the script is used up. Requests are forwarded to
//! `{upstream}{path}`; every request is recorded ([`Seen`]) so tests can count them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use url::Url;

/// Largest request head read, in bytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest request body read, in bytes (a batch of 98 entries is about 10 KiB).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Bound on one forwarded exchange.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Headers not copied between the two connections (RFC 9110 §7.6.1, plus the recomputed length).
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "upgrade",
];

/// What the proxy does with one request.
#[derive(Debug, Clone)]
pub enum Step {
    /// Forward it and relay the answer.
    Forward,
    /// Answer without forwarding: `status`, an optional `Retry-After` in seconds, a JSON body.
    Answer {
        /// HTTP status.
        status: u16,
        /// `Retry-After` delay-seconds, if any.
        retry_after: Option<u64>,
        /// JSON body.
        body: Value,
    },
    /// Hold the request this long (past the client's timeout), then forward it anyway; the
    /// late answer goes to a client that has given up.
    DelayThenForward(Duration),
    /// Forward it and read the whole answer (so the upstream has done the work), then close the
    /// connection without answering.
    ForwardThenDrop,
    /// Forward a copy first (its answer discarded), then the request itself, relaying that
    /// answer: the upstream sees the request replayed before the client's own.
    ReplayThenForward,
}

impl Step {
    /// An error answer `{"error": code, "error_description": ...}`.
    pub fn error(status: u16, code: &str, retry_after: Option<u64>) -> Self {
        Self::Answer {
            status,
            retry_after,
            body: serde_json::json!({"error": code, "error_description": "injected by the test proxy"}),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Forward => "forward",
            Self::Answer { .. } => "answer",
            Self::DelayThenForward(_) => "delay",
            Self::ForwardThenDrop => "drop",
            Self::ReplayThenForward => "replay",
        }
    }
}

/// One request the proxy received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Request line path, e.g. `/timesheets/upload`.
    pub path: String,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// When it arrived.
    pub at: Instant,
    /// Which step it got: `forward`, `answer`, `delay`, `drop` or `replay`.
    pub step: &'static str,
    /// The status the client was sent (for `answer`, `forward` and `replay`) or the upstream answered
    /// (for `delay` and `drop`, once known).
    pub status: Option<u16>,
}

struct State {
    upstream: String,
    http: reqwest::Client,
    script: Mutex<VecDeque<Step>>,
    seen: Mutex<Vec<Seen>>,
}

impl State {
    fn set_status(&self, index: usize, status: u16) {
        self.seen.lock().unwrap()[index].status = Some(status);
    }
}

/// A running proxy; stops (with every connection) when dropped.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (a base URL; its path is kept as a prefix) with `script`.
    pub async fn start(upstream: &str, script: Vec<Step>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(UPSTREAM_TIMEOUT)
                .build()
                .unwrap(),
            script: Mutex::new(script.into()),
            seen: Mutex::new(Vec::new()),
        });
        let accept_state = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection task.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of descriptors, say: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                connections.spawn(serve(stream, Arc::clone(&accept_state)));
                while connections.try_join_next().is_some() {}
            }
        });
        Self {
            addr,
            state,
            accept,
        }
    }

    /// The proxy's base URL, `http://127.0.0.1:{port}/`.
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).unwrap()
    }

    /// The requests received so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Script steps not used yet.
    pub fn steps_left(&self) -> usize {
        self.state.script.lock().unwrap().len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

struct Answer {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Serves one client connection, request after request (keep-alive), until a step closes it.
async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let mut buffer = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buffer).await {
        let step = state
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Step::Forward);
        let index = {
            let mut seen = state.seen.lock().unwrap();
            seen.push(Seen {
                path: request.path.clone(),
                idempotency_key: header(&request.headers, "idempotency-key"),
                at: Instant::now(),
                step: step.name(),
                status: None,
            });
            seen.len() - 1
        };
        match step {
            Step::Forward | Step::ReplayThenForward => {
                if matches!(step, Step::ReplayThenForward) {
                    forward(&state, &request).await;
                }
                let answer = forward(&state, &request).await;
                state.set_status(index, answer.status);
                if write_answer(&mut stream, &answer).await.is_err() {
                    return;
                }
            }
            Step::Answer {
                status,
                retry_after,
                body,
            } => {
                let mut headers = vec![("content-type".to_owned(), b"application/json".to_vec())];
                if let Some(seconds) = retry_after {
                    headers.push(("retry-after".to_owned(), seconds.to_string().into_bytes()));
                }
                let answer = Answer {
                    status,
                    headers,
                    body: serde_json::to_vec(&body).unwrap(),
                };
                state.set_status(index, status);
                if write_answer(&mut stream, &answer).await.is_err() {
                    return;
                }
            }
            Step::DelayThenForward(delay) => {
                tokio::time::sleep(delay).await;
                let answer = forward(&state, &request).await;
                state.set_status(index, answer.status);
                let _ = write_answer(&mut stream, &answer).await;
                return;
            }
            Step::ForwardThenDrop => {
                let answer = forward(&state, &request).await;
                state.set_status(index, answer.status);
                return;
            }
        }
    }
}

fn header(headers: &[(String, Vec<u8>)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
}

/// Reads one request with a `Content-Length` body; `None` at end of stream or on a request
/// this proxy does not handle (chunked, oversized, malformed), which closes the connection.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let mut chunk = [0_u8; 8192];
    let (head_len, mut request) = loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(head_len) = parsed.parse(buffer).ok()? {
            let request = Request {
                method: parsed.method?.to_owned(),
                path: parsed.path?.to_owned(),
                headers: parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                    .collect(),
                body: Vec::new(),
            };
            break (head_len, request);
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return None;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    if header(&request.headers, "transfer-encoding").is_some() {
        return None;
    }
    let body_len: usize = header(&request.headers, "content-length")
        .map_or(Some(0), |value| value.trim().parse().ok())?;
    if body_len > MAX_BODY_BYTES {
        return None;
    }
    while buffer.len() < head_len + body_len {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    request.body = buffer[head_len..head_len + body_len].to_vec();
    buffer.drain(..head_len + body_len);
    Some(request)
}

/// Sends `request` upstream; a failure to reach it becomes a `502`.
async fn forward(state: &State, request: &Request) -> Answer {
    let url = format!("{}{}", state.upstream, request.path);
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut outgoing = state.http.request(method, url).body(request.body.clone());
    for (name, value) in &request.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            outgoing = outgoing.header(name.as_str(), value.as_slice());
        }
    }
    let bad_gateway = || Answer {
        status: 502,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let Ok(response) = outgoing.send().await else {
        return bad_gateway();
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    match response.bytes().await {
        Ok(body) => Answer {
            status,
            headers,
            body: body.to_vec(),
        },
        Err(_) => bad_gateway(),
    }
}

async fn write_answer(stream: &mut TcpStream, answer: &Answer) -> std::io::Result<()> {
    let reason = http::StatusCode::from_u16(answer.status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", answer.status).into_bytes();
    for (name, value) in &answer.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(format!("content-length: {}\r\n\r\n", answer.body.len()).as_bytes());
    head.extend_from_slice(&answer.body);
    stream.write_all(&head).await?;
    stream.flush().await
}
