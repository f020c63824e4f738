//! One function process under the Runtime API stand-in, observed from outside: when it first
//! polls, how long an invocation takes, the CPU it burns (all its threads, from
//! `/proc/<pid>/task/*/schedstat`, in nanoseconds) and its peak RSS (`VmHWM`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use testkit::runtime_api::{Call, RuntimeApi, Stalled};

/// How long the bench waits for any one step of a function before giving up.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// A started function, polling the stand-in for its first event.
pub struct Function {
    child: Child,
    api: RuntimeApi,
    /// Spawn → first `/invocation/next`.
    pub init: Duration,
    /// The last lines it wrote, for the message when it fails.
    output: Arc<Mutex<Vec<String>>>,
}

/// One answered invocation.
pub struct Answer {
    /// Event written → answer read, as the stand-in saw them.
    pub latency: Duration,
    /// The answer's body (for lambda_http functions: `{"statusCode": ..., ...}`).
    pub body: serde_json::Value,
}

impl Function {
    /// Spawns `bootstrap` with `env` (plus the Lambda variables the runtime reads) and waits
    /// for its first poll.
    pub fn start(bootstrap: &Path, name: &str, env: &[(String, String)]) -> Result<Self, String> {
        Self::start_under(&[], bootstrap, name, env)
    }

    /// [`Function::start`], the bootstrap run by `wrapper` (e.g. `valgrind --tool=callgrind`).
    pub fn start_under(
        wrapper: &[String],
        bootstrap: &Path,
        name: &str,
        env: &[(String, String)],
    ) -> Result<Self, String> {
        let api =
            RuntimeApi::start("bench").map_err(|error| format!("runtime API stand-in: {error}"))?;
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(bootstrap);
                command
            }
            None => Command::new(bootstrap),
        };
        command
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(api.function_env(name))
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawned_at = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|error| format!("{}: {error}", bootstrap.display()))?;
        let output = Arc::new(Mutex::new(Vec::new()));
        // Lambda reads a function's stdout and stderr through pipes: drain them the same way.
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut kept = output.lock().expect("output lock");
                    if kept.len() >= 20 {
                        kept.remove(0);
                    }
                    kept.push(line);
                }
            });
        }
        let mut function = Self {
            child,
            api,
            init: Duration::ZERO,
            output,
        };
        let polled = function.wait_for_next()?;
        function.init = polled - spawned_at;
        Ok(function)
    }

    /// Invokes the function with `payload` and waits until it has answered and polled again.
    pub fn invoke(&mut self, payload: &[u8]) -> Result<Answer, String> {
        let id = self.api.deliver(payload.to_vec());
        let answer = loop {
            match self.api.call(STEP_TIMEOUT) {
                Some(Call::Response {
                    id: answered,
                    body,
                    delivered,
                    at,
                }) if answered == id => {
                    let body = serde_json::from_slice(&body)
                        .map_err(|error| format!("answer is not JSON: {error}"))?;
                    break Answer {
                        latency: at - delivered,
                        body,
                    };
                }
                Some(Call::Error { path, body }) => return Err(self.reported(&path, &body)),
                Some(_) => continue,
                None => return Err(self.failure("did not answer")),
            }
        };
        self.wait_for_next()?;
        Ok(answer)
    }

    /// Invokes the function with every payload, keeping `in_flight` invocations delivered and
    /// unanswered at any time (a closed loop, as that many callers would); the answers in the
    /// order of `payloads`.
    pub fn invoke_concurrently(
        &mut self,
        payloads: &[Vec<u8>],
        in_flight: usize,
    ) -> Result<Vec<Answer>, String> {
        let answered = self
            .api
            .invoke_concurrently(payloads.iter().cloned(), in_flight, STEP_TIMEOUT)
            .map_err(|stalled| match stalled {
                Stalled::Reported { path, body } => self.reported(&path, &body),
                Stalled::Silent => self.failure("did not answer"),
                Stalled::Unexpected(id) => format!("an answer to an invocation never sent: {id}"),
            })?;
        answered
            .into_iter()
            .map(|answer| {
                let body = serde_json::from_slice(&answer.body)
                    .map_err(|error| format!("answer is not JSON: {error}"))?;
                Ok(Answer {
                    latency: answer.at - answer.delivered,
                    body,
                })
            })
            .collect()
    }

    /// CPU time of all its live threads so far, user + system.
    pub fn cpu(&self) -> Duration {
        process_cpu(self.child.id())
    }

    /// The process id, for tools that attach to it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its threads, to tell that a CPU figure covers all the work (none exited meanwhile).
    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .map(|tasks| tasks.count())
            .unwrap_or(0)
    }

    /// Peak resident set size so far, in bytes.
    pub fn peak_rss(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .map_or(0, |kib| kib * 1024)
    }

    fn wait_for_next(&mut self) -> Result<Instant, String> {
        loop {
            match self.api.call(STEP_TIMEOUT) {
                Some(Call::Next(at)) => return Ok(at),
                Some(Call::Error { path, body }) => return Err(self.reported(&path, &body)),
                Some(_) => continue,
                None => return Err(self.failure("did not poll for an event")),
            }
        }
    }

    fn reported(&mut self, path: &str, body: &[u8]) -> String {
        let what = format!(
            "reported an error on {path}: {}",
            String::from_utf8_lossy(body)
        );
        self.failure(&what)
    }

    fn failure(&mut self, what: &str) -> String {
        let exited = self.child.try_wait().ok().flatten();
        let lines = self.output.lock().expect("output lock").join("\n");
        format!("the function {what} (exit: {exited:?}); last output:\n{lines}")
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        // Our own child, by its handle: a sandbox that is frozen and then reclaimed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time of all the live threads of process `pid` so far, user + system
/// (`/proc/<pid>/task/*/schedstat`).
pub fn process_cpu(pid: u32) -> Duration {
    let total: u64 = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(total)
}
