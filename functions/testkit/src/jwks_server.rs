//! A scripted HTTP/1.1 server on 127.0.0.1 standing in for an issuer's JWKS and discovery
//! endpoints; it counts the requests it receives so tests can assert on fetch behaviour.

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
    hits: AtomicUsize,
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
            hits: AtomicUsize::new(0),
        });
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, serving.clone()));
            }
        });
        Self { port, shared, task }
    }

    /// Changes what the next requests get.
    pub fn set(&self, reply: Reply) {
        *self.shared.reply.lock().expect("reply lock") = reply;
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
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
    shared.hits.fetch_add(1, Ordering::SeqCst);
    let mut reply = shared.reply.lock().expect("reply lock").clone();
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
