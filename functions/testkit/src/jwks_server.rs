//! A scripted HTTP/1.1 server on 127.0.0.1 standing in for an issuer's JWKS and discovery
//! endpoints; it counts the requests it receives so tests can assert on fetch behaviour.
//!
//! Every path gets the default reply unless [`JwksServer::route`] gave it its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the server answers to the next requests.
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

#[derive(Debug)]
struct Shared {
    reply: Mutex<Reply>,
    routes: Mutex<HashMap<String, Reply>>,
    hits: AtomicUsize,
    hits_by_path: Mutex<HashMap<String, usize>>,
}

/// The running server; it stops when dropped.
#[derive(Debug)]
pub struct JwksServer {
    port: u16,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl JwksServer {
    /// Starts on a free port of 127.0.0.1, answering every request with `reply`.
    pub async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            reply: Mutex::new(reply),
            routes: Mutex::new(HashMap::new()),
            hits: AtomicUsize::new(0),
            hits_by_path: Mutex::new(HashMap::new()),
        });
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, serving.clone()));
            }
        });
        Self { port, shared, task }
    }

    /// Changes what the next requests get (on paths without a [`JwksServer::route`]).
    pub fn set(&self, reply: Reply) {
        *self.shared.reply.lock().expect("reply lock") = reply;
    }

    /// Answers requests for `path` (e.g. `/.well-known/openid-configuration`, query ignored)
    /// with `reply` from now on.
    pub fn route(&self, path: &str, reply: Reply) {
        self.shared
            .routes
            .lock()
            .expect("routes lock")
            .insert(path.to_owned(), reply);
    }

    /// Requests received so far, all paths.
    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }

    /// Requests received so far for `path` (query ignored).
    pub fn hits_for(&self, path: &str) -> usize {
        self.shared
            .hits_by_path
            .lock()
            .expect("hits lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// `http://127.0.0.1:<port>/` — use as a loopback issuer URL.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// `http://127.0.0.1:<port>/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}.well-known/jwks.json", self.base_url())
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let path = request_path(&request);
    *shared
        .hits_by_path
        .lock()
        .expect("hits lock")
        .entry(path.clone())
        .or_default() += 1;
    shared.hits.fetch_add(1, Ordering::SeqCst);
    let routed = shared
        .routes
        .lock()
        .expect("routes lock")
        .get(&path)
        .cloned();
    let mut reply = routed.unwrap_or_else(|| shared.reply.lock().expect("reply lock").clone());
    while let Reply::Delay(wait, inner) = reply {
        tokio::time::sleep(wait).await;
        reply = *inner;
    }
    let (status, body) = match reply {
        Reply::Json(body) => (200, body),
        Reply::Status(status) => (status, "{}".to_owned()),
        Reply::Garbage => (200, "<html>not a key set</html>".to_owned()),
        Reply::Huge(size) => (
            200,
            format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(size)),
        ),
        Reply::Delay(..) => unreachable!("delays are unwrapped above"),
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The path of `GET /path?query HTTP/1.1`, without the query.
fn request_path(request: &[u8]) -> String {
    let line = request
        .split(|byte| *byte == b'\r')
        .next()
        .unwrap_or_default();
    let target = String::from_utf8_lossy(line)
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    target.split('?').next().unwrap_or_default().to_owned()
}
