//! One API process as Lambda Managed Instances runs it: the `timesheets-api` bootstrap the
//! stack built, serving `AWS_LAMBDA_MAX_CONCURRENCY` invocations at once, with testkit's
//! Runtime API stand-in in place of the Lambda service.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use testkit::runtime_api::{Answered, RuntimeApi, Stalled};

use crate::repo_root;

/// The function, as the stack builds and names it.
const FUNCTION: &str = "timesheets-api";

/// How long the process may make no call to the stand-in before it counts as stuck.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The debug build of the API bootstrap that `infra/local/stack.sh up` made, in the
/// workspace's target directory (`CARGO_TARGET_DIR`, relative to the workspace root, else
/// `target/`).
///
/// # Panics
/// When it is not there: these tests run through `make test`, whose stack builds it.
pub fn api_bootstrap() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo_root().join("target"), |dir| repo_root().join(dir));
    let bootstrap = target.join("debug").join(FUNCTION);
    assert!(
        bootstrap.is_file(),
        "no {FUNCTION} bootstrap in the target directory: run the end-to-end tests with \
         `make test`, whose stack builds it"
    );
    bootstrap
}

/// The running process and its Runtime API; the process is killed when this is dropped.
pub struct ApiProcess {
    child: Child,
    runtime: RuntimeApi,
}

impl ApiProcess {
    /// Starts the API bootstrap with this test's environment (the stack's), `env` over it,
    /// serving `concurrency` invocations at once. Request ids start with `name`; the process
    /// writes its log lines to `.local/logs/{name}.log`.
    pub fn start(name: &str, concurrency: usize, env: &[(&str, &str)]) -> Self {
        let runtime = RuntimeApi::start(name).expect("the Runtime API stand-in starts");
        let log = File::create(repo_root().join(".local/logs").join(format!("{name}.log")))
            .expect("the stack's log directory");
        let child = Command::new(api_bootstrap())
            .envs(runtime.function_env(FUNCTION))
            .env("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file handle"))
            .stderr(log)
            .spawn()
            .expect("the API bootstrap starts");
        Self { child, runtime }
    }

    /// Invokes the process with every payload, `in_flight` at a time
    /// ([`RuntimeApi::invoke_concurrently`]); the answers in the order of the payloads.
    ///
    /// # Panics
    /// When the process reports an error, stops answering or answers what was not asked.
    pub fn invoke_concurrently(
        &mut self,
        payloads: impl IntoIterator<Item = Vec<u8>>,
        in_flight: usize,
    ) -> Vec<Answered> {
        match self
            .runtime
            .invoke_concurrently(payloads, in_flight, STEP_TIMEOUT)
        {
            Ok(answers) => answers,
            Err(stalled) => {
                let exited = self.child.try_wait().ok().flatten();
                let what = match stalled {
                    Stalled::Reported { path, body } => format!(
                        "reported an error on {path}: {}",
                        String::from_utf8_lossy(&body)
                    ),
                    Stalled::Silent => format!("made no call for {STEP_TIMEOUT:?}"),
                    Stalled::Unexpected(id) => format!("answered {id}, not awaited"),
                };
                panic!("the API process {what} (exit: {exited:?}); its log is in .local/logs/")
            }
        }
    }

    /// Whether the process is still running (it has not crashed or exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
