//! A minimal Lambda Runtime API on 127.0.0.1: the calls a function makes to the Lambda
//! service, served by a test or the bench instead.
//!
//! `GET /2018-06-01/runtime/invocation/next` waits for the next event handed in;
//! `POST .../invocation/{id}/response` and `.../error` hand the answer back; `POST
//! /2018-06-01/runtime/init/error` reports a failed init. Each is timestamped where it is read
//! or written, so a caller measures the function and not the stand-in's own queueing. Every
//! connection is served on its own thread, so a function polling `/next` from several workers
//! at once (`lambda_runtime`'s `run_concurrent`) gets one event per poll, as from Lambda
//! Managed Instances. See <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the function did, as the stand-in saw it.
#[derive(Debug)]
pub enum Call {
    /// It asked for the next event (at the instant its request was read).
    Next(Instant),
    /// It answered invocation `id` with `body`; `delivered` is when the event was written to it.
    Response {
        id: String,
        body: Vec<u8>,
        delivered: Instant,
        at: Instant,
    },
    /// It reported an invocation or init error.
    Error { path: String, body: Vec<u8> },
}

/// One invocation the function answered, as [`RuntimeApi::invoke_concurrently`] collects them.
#[derive(Debug)]
pub struct Answered {
    /// Its request id.
    pub id: String,
    /// The answer's body (for lambda_http functions: `{"statusCode": ..., ...}`).
    pub body: Vec<u8>,
    /// When the event was written to the function.
    pub delivered: Instant,
    /// When the answer was read.
    pub at: Instant,
}

/// Why [`RuntimeApi::invoke_concurrently`] stopped before every invocation was answered.
#[derive(Debug)]
pub enum Stalled {
    /// The function reported an invocation or init error on `path`.
    Reported { path: String, body: Vec<u8> },
    /// The function made no call for the whole timeout.
    Silent,
    /// It answered a request id never delivered, or one already answered.
    Unexpected(String),
}

/// One invocation to deliver.
struct Event {
    id: String,
    payload: Vec<u8>,
}

/// The running stand-in; its threads end with the process.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: Sender<Event>,
    calls: Receiver<Call>,
    next_id: u64,
    /// What request ids start with, so a function's logs tell whose invocations they were.
    prefix: String,
}

struct Shared {
    events: Mutex<Receiver<Event>>,
    calls: Mutex<Sender<Call>>,
    /// When each delivered invocation was written, by id.
    delivered: Mutex<Vec<(String, Instant)>>,
}

impl RuntimeApi {
    /// Starts on a free port of 127.0.0.1; request ids are `{prefix}-00000001`, `-00000002`, …
    pub fn start(prefix: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (events_tx, events_rx) = mpsc::channel();
        let (calls_tx, calls_rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            calls: Mutex::new(calls_tx),
            delivered: Mutex::new(Vec::new()),
        });
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                thread::spawn(move || serve(stream, &shared));
            }
        });
        Ok(Self {
            addr,
            events: events_tx,
            calls: calls_rx,
            next_id: 0,
            prefix: prefix.to_owned(),
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The variables Lambda sets for function `name` that `lambda_runtime` reads, pointing it
    /// at this stand-in.
    pub fn function_env(&self, name: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ]
    }

    /// The next call the function makes, waiting at most `timeout`.
    pub fn call(&self, timeout: Duration) -> Option<Call> {
        self.calls.recv_timeout(timeout).ok()
    }

    /// Hands `payload` to the function's pending (or next) `/next` poll; returns its request id.
    pub fn deliver(&mut self, payload: Vec<u8>) -> String {
        self.next_id += 1;
        let id = format!("{}-{:08}", self.prefix, self.next_id);
        self.events
            .send(Event {
                id: id.clone(),
                payload,
            })
            .expect("the accept thread holds the receiver");
        id
    }

    /// Delivers every payload, keeping `in_flight` of them delivered and unanswered at any time
    /// (a closed loop, as that many callers would), and returns the answers in the order of
    /// `payloads`. Each payload is taken from the iterator only when a slot frees, so a caller
    /// can change the world (e.g. rotate an issuer's keys) between two of them while the
    /// others are in flight. `/next` polls are skipped; a `timeout` without any call stalls.
    ///
    /// # Errors
    /// The first [`Stalled`]: the function reported an error, went silent, or answered an
    /// invocation never delivered or twice.
    pub fn invoke_concurrently(
        &mut self,
        payloads: impl IntoIterator<Item = Vec<u8>>,
        in_flight: usize,
        timeout: Duration,
    ) -> Result<Vec<Answered>, Stalled> {
        let mut pending = payloads.into_iter();
        let mut ids = Vec::new();
        for payload in pending.by_ref().take(in_flight.max(1)) {
            ids.push(self.deliver(payload));
        }
        let mut answers: Vec<Option<Answered>> = ids.iter().map(|_| None).collect();
        let mut unanswered = ids.len();
        while unanswered > 0 {
            match self.call(timeout) {
                Some(Call::Response {
                    id,
                    body,
                    delivered,
                    at,
                }) => {
                    let index = ids
                        .iter()
                        .position(|known| *known == id)
                        .filter(|&index| answers[index].is_none())
                        .ok_or_else(|| Stalled::Unexpected(id.clone()))?;
                    answers[index] = Some(Answered {
                        id,
                        body,
                        delivered,
                        at,
                    });
                    unanswered -= 1;
                    if let Some(payload) = pending.next() {
                        ids.push(self.deliver(payload));
                        answers.push(None);
                        unanswered += 1;
                    }
                }
                Some(Call::Error { path, body }) => return Err(Stalled::Reported { path, body }),
                Some(Call::Next(_)) => continue,
                None => return Err(Stalled::Silent),
            }
        }
        Ok(answers.into_iter().flatten().collect())
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = write_half;
    while let Some((method, path, body)) = read_request(&mut reader) {
        let read_at = Instant::now();
        let calls = shared.calls.lock().expect("calls lock").clone();
        if method == "GET" && path.ends_with("/runtime/invocation/next") {
            let _ = calls.send(Call::Next(read_at));
            let event = shared.events.lock().expect("events lock").recv();
            let Ok(event) = event else { return };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 10_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: {id}\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:stand-in\r\n\
                 lambda-runtime-trace-id: Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=60a7d0c22fb2f001;Sampled=0\r\n\
                 content-length: {}\r\n\r\n",
                event.payload.len(),
                id = event.id,
            );
            let mut answer = head.into_bytes();
            answer.extend_from_slice(&event.payload);
            shared
                .delivered
                .lock()
                .expect("delivered lock")
                .push((event.id, Instant::now()));
            if writer.write_all(&answer).is_err() {
                return;
            }
        } else {
            let invocation = path
                .strip_prefix("/2018-06-01/runtime/invocation/")
                .and_then(|rest| rest.strip_suffix("/response"));
            let call = match invocation {
                Some(id) if method == "POST" => {
                    let mut delivered = shared.delivered.lock().expect("delivered lock");
                    let at = delivered
                        .iter()
                        .position(|(known, _)| known == id)
                        .map_or(read_at, |index| delivered.swap_remove(index).1);
                    Call::Response {
                        id: id.to_owned(),
                        body,
                        delivered: at,
                        at: read_at,
                    }
                }
                _ => Call::Error { path, body },
            };
            let _ = calls.send(call);
            let accepted = "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\n\
                            content-length: 15\r\n\r\n{\"status\":\"OK\"}";
            if writer.write_all(accepted.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// One HTTP/1.1 request: method, path and body (`content-length` or chunked).
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        head.extend_from_slice(&line);
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    request.parse(&head).ok()?;
    let method = request.method?.to_owned();
    let path = request.path?.to_owned();
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| String::from_utf8_lossy(header.value).into_owned())
    };
    let body = if let Some(length) = header("content-length") {
        let mut body = vec![0; length.trim().parse().ok()?];
        reader.read_exact(&mut body).ok()?;
        body
    } else if header("transfer-encoding").is_some_and(|te| te.contains("chunked")) {
        read_chunked(reader)?
    } else {
        Vec::new()
    };
    Some((method, path, body))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line).ok()?;
        let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            // Trailers end with an empty line; the zero chunk's CRLF was read above.
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A function of `workers` threads, each polling `/next` on its own connection and
    /// answering every event with its payload, as `run_concurrent` does.
    fn echo_function(address: &str, workers: usize) {
        for _ in 0..workers {
            let address = address.to_owned();
            thread::spawn(move || {
                let stream = TcpStream::connect(&address).expect("stand-in listening");
                let mut writer = stream.try_clone().expect("clone");
                let mut reader = BufReader::new(stream);
                loop {
                    let next =
                        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\n\r\n";
                    if writer.write_all(next.as_bytes()).is_err() {
                        return;
                    }
                    let Some((id, payload)) = read_event(&mut reader) else {
                        return;
                    };
                    let answer = format!(
                        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\n\
                         host: x\r\ncontent-length: {}\r\n\r\n",
                        payload.len()
                    );
                    let mut bytes = answer.into_bytes();
                    bytes.extend_from_slice(&payload);
                    writer.write_all(&bytes).expect("answer written");
                    let mut accepted = vec![0; 100];
                    let read = reader.read(&mut accepted).expect("202 read");
                    assert!(accepted[..read].starts_with(b"HTTP/1.1 202"));
                }
            });
        }
    }

    /// The request id and payload of a `/next` answer.
    fn read_event(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
        let (mut id, mut length) = (String::new(), 0);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(": ") {
                match name {
                    "lambda-runtime-aws-request-id" => id = value.to_owned(),
                    "content-length" => length = value.parse().ok()?,
                    _ => {}
                }
            }
        }
        let mut payload = vec![0; length];
        reader.read_exact(&mut payload).ok()?;
        Some((id, payload))
    }

    #[test]
    fn many_events_in_flight_are_answered_by_id_in_order() {
        let mut api = RuntimeApi::start("unit").unwrap();
        echo_function(&api.address(), 4);
        let payloads: Vec<Vec<u8>> = (0..40).map(|n| format!("{{\"n\":{n}}}").into()).collect();
        let answers = api
            .invoke_concurrently(payloads.clone(), 6, Duration::from_secs(10))
            .unwrap();
        let bodies: Vec<Vec<u8>> = answers.iter().map(|answer| answer.body.clone()).collect();
        assert_eq!(bodies, payloads);
        assert!(answers[0].id.starts_with("unit-"));
        assert!(answers.iter().all(|answer| answer.at >= answer.delivered));
    }
}
