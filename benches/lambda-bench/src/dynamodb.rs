//! The local DynamoDB of `infra/local` (moto through `aws_server.py`), started for the
//! "body stored" figures and seeded with the timesheets table by `seed.py`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The table the API function writes to, as in the template and the local stack.
pub const TABLE: &str = "Timesheets";

/// The running emulator; stopped when dropped.
pub struct LocalDynamoDb {
    child: Child,
    /// `AWS_ENDPOINT_URL` for the function.
    pub endpoint: String,
}

impl LocalDynamoDb {
    /// Starts the emulator with the repository's `.venv` Python and creates the table.
    ///
    /// # Errors
    /// A sentence saying what is missing or did not start.
    pub fn start(repo: &Path) -> Result<Self, String> {
        Self::start_with_latency(repo, Duration::ZERO)
    }

    /// [`LocalDynamoDb::start`], each DynamoDB request waiting `latency` before it is applied
    /// (`aws_server.py --dynamodb-latency-ms`), outside the emulator's one-at-a-time lock.
    ///
    /// # Errors
    /// A sentence saying what is missing or did not start.
    pub fn start_with_latency(repo: &Path, latency: Duration) -> Result<Self, String> {
        let python = repo.join(".venv/bin/python");
        if !python.exists() {
            return Err("no .venv: run make install".to_owned());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| error.to_string())?
            .port();
        let child = Command::new(&python)
            .arg(repo.join("infra/local/aws_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .args([
                "--dynamodb-latency-ms".to_owned(),
                format!("{}", latency.as_secs_f64() * 1000.0),
                // Its output goes nowhere: don't format an access log line per request.
                "--quiet".to_owned(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("aws_server.py: {error}"))?;
        let dynamodb = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("aws_server.py did not listen within 60 s".to_owned());
            }
            thread::sleep(Duration::from_millis(200));
        }
        let seeded = Command::new(&python)
            .arg(repo.join("infra/local/seed.py"))
            .envs(dynamodb.env())
            .envs([
                ("CREDENTIALS_SECRET_ID", "bench/unused"),
                ("TEST_WRONG_SECRET_ID", "bench/unused-wrong"),
                ("TEST_JOB_CLIENT_ID", "bench"),
                ("TEST_JOB_CLIENT_SECRET", "unused"),
                ("TEST_ASSERTION_CLIENT_ID", "bench-assertion"),
                ("TEST_ASSERTION_SECRET_ID", "bench/unused-assertion"),
            ])
            .stdout(Stdio::null())
            .status()
            .map_err(|error| format!("seed.py: {error}"))?;
        if !seeded.success() {
            return Err(format!("seed.py failed ({seeded})"));
        }
        Ok(dynamodb)
    }

    /// DynamoDB requests that arrived so far, every operation and SDK retry counted
    /// (`aws_server.py`'s `GET /_stand_in/dynamodb-requests`).
    ///
    /// # Errors
    /// A sentence saying what failed.
    pub fn requests(&self) -> Result<u64, String> {
        Ok(self.requests_by_operation()?.values().sum())
    }

    /// [`LocalDynamoDb::requests`] by operation, e.g. `UpdateItem`.
    ///
    /// # Errors
    /// A sentence saying what failed.
    pub fn requests_by_operation(&self) -> Result<HashMap<String, u64>, String> {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).map_err(|error| error.to_string())?;
        write!(
            stream,
            "GET /_stand_in/dynamodb-requests HTTP/1.0\r\nHost: {address}\r\n\r\n"
        )
        .map_err(|error| error.to_string())?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|error| error.to_string())?;
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        serde_json::from_str(body).map_err(|error| format!("request counts: {error}: {answer}"))
    }

    /// CPU the emulator has used so far, to tell how busy it was: user + system of the whole
    /// process from `/proc/<pid>/stat`, which counts every thread it ever ran (its server's
    /// and Python's alike, ended ones too), in clock ticks of 10 ms (`USER_HZ`, 100 on Linux).
    pub fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name, which is in parentheses and may hold spaces:
        // state is field 3, utime 14 and stime 15 (proc(5)).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |field: usize| {
            fields
                .get(field - 3)
                .and_then(|value| value.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Duration::from_millis((ticks(14) + ticks(15)) * 10)
    }

    /// The AWS environment a function needs to use this emulator.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = Self::placeholder_env();
        env.push(("AWS_ENDPOINT_URL".to_owned(), self.endpoint.clone()));
        env
    }

    /// The AWS environment without an endpoint: region, test credentials, the table name.
    pub fn placeholder_env() -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("TIMESHEETS_TABLE", TABLE),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
    }
}

impl Drop for LocalDynamoDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
