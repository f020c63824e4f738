//! `make profile`: where a warm request's CPU goes, by function. The API function (a release
//! build with symbols) runs under callgrind; its counters are zeroed after a warm-up and
//! dumped after a fixed number of requests, so the profile covers exactly that many whole
//! invocation cycles (event read, handler, answer, next poll).

use std::path::Path;
use std::process::Command;

use crate::function::Function;

/// Frames every profile shares (process start, runtime entry, future plumbing): left out.
const BOILERPLATE: [&str; 8] = [
    "libc-start",
    "(below main)",
    "lang_start",
    "::block_on",
    "enter_runtime",
    "core::ops::function::",
    "backtrace.rs",
    "core::future::future",
];

/// Requests before the counters are zeroed, and requests profiled.
const WARM_UP: usize = 50;
const PROFILED: usize = 200;

/// What to profile: a name for the output, the bootstrap, its environment and its events.
pub struct Target<'a> {
    pub name: &'a str,
    pub bootstrap: &'a Path,
    pub env: Vec<(String, String)>,
    /// The event of request `i` and the status it must get.
    pub event: Box<dyn Fn(usize) -> Vec<u8> + 'a>,
    pub status: u64,
}

fn control(args: &[&str]) -> Result<(), String> {
    let status = Command::new("callgrind_control")
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|error| format!("callgrind_control: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("callgrind_control {args:?} failed ({status})"))
    }
}

/// Profiles `target` and prints instructions per request and the top functions (inclusive
/// and self), as `callgrind_annotate` reports them.
pub fn run(target: &Target, out_dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out_dir).map_err(|error| error.to_string())?;
    let out = out_dir.join(format!("callgrind.{}.out", target.name));
    let wrapper = vec![
        "valgrind".to_owned(),
        "--tool=callgrind".to_owned(),
        "--quiet".to_owned(),
        format!("--callgrind-out-file={}", out.display()),
    ];
    let mut function = Function::start_under(&wrapper, target.bootstrap, target.name, &target.env)?;
    let pid = function.pid().to_string();
    // Dump 1: the init phase, spawn to the first poll.
    control(&["--dump", &pid])?;
    for i in 0..WARM_UP {
        answer(&mut function, &(target.event)(i), target.status)?;
    }
    control(&["--zero", &pid])?;
    for i in 0..PROFILED {
        answer(&mut function, &(target.event)(WARM_UP + i), target.status)?;
    }
    // Dump 2: the profiled requests.
    control(&["--dump", &pid])?;
    drop(function);
    // Dumps are named after the output file with their sequence number appended.
    let dump = |n: u32| out_dir.join(format!("callgrind.{}.out.{n}", target.name));
    annotate(
        &dump(1),
        &format!("{}: init, top functions (inclusive)", target.name),
        1,
    )?;
    annotate(
        &dump(2),
        &format!(
            "{}: {PROFILED} warm requests, top functions (inclusive)",
            target.name
        ),
        PROFILED,
    )
}

/// Prints callgrind_annotate's inclusive costs in `dump`, totals divided by `per` (the
/// requests profiled, or 1 for init).
fn annotate(dump: &Path, heading: &str, per: usize) -> Result<(), String> {
    let report = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100", "--auto=no"])
        .arg(dump)
        .output()
        .map_err(|error| format!("callgrind_annotate: {error}"))?;
    let text = String::from_utf8_lossy(&report.stdout);
    println!("\n## {heading}\n");
    if let Some(total) = text.lines().find(|line| line.contains("PROGRAM TOTALS")) {
        let instructions: u64 = total
            .split_whitespace()
            .next()
            .map(|count| count.replace(',', ""))
            .and_then(|count| count.parse().ok())
            .unwrap_or(0);
        println!(
            "{} instructions each (user space)",
            instructions / per as u64
        );
    }
    for line in text
        .lines()
        .skip_while(|line| !line.contains("file:function"))
        .filter(|line| !BOILERPLATE.iter().any(|frame| line.contains(frame)))
        .take(60)
    {
        println!("{line}");
    }
    Ok(())
}

fn answer(function: &mut Function, event: &[u8], status: u64) -> Result<(), String> {
    let answer = function.invoke(event)?;
    if answer.body["statusCode"].as_u64() != Some(status) {
        return Err(format!("expected status {status}, got {}", answer.body));
    }
    Ok(())
}
