//! `make profile`: where a warm request's CPU goes, by function. The API function (a release
//! build with symbols) runs under callgrind; its counters are zeroed after a warm-up and
//! dumped after a fixed number of requests, so the profile covers exactly that many whole
//! invocation cycles (event read, handler, answer, next poll).

use std::path::Path;
use std::process::Command;

use crate::function::Function;

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
    for i in 0..WARM_UP {
        answer(&mut function, &(target.event)(i), target.status)?;
    }
    let pid = function.pid().to_string();
    control(&["--zero", &pid])?;
    for i in 0..PROFILED {
        answer(&mut function, &(target.event)(WARM_UP + i), target.status)?;
    }
    control(&["--dump", &pid])?;
    drop(function);
    // The dump is named after the output file with the dump's sequence number appended.
    let dump = std::fs::read_dir(out_dir)
        .map_err(|error| error.to_string())?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&format!("callgrind.{}.out.", target.name)))
        })
        .max()
        .ok_or("callgrind wrote no dump")?;
    for inclusive in ["yes", "no"] {
        let report = Command::new("callgrind_annotate")
            .args([
                &format!("--inclusive={inclusive}"),
                "--threshold=95",
                "--auto=no",
            ])
            .arg(&dump)
            .output()
            .map_err(|error| format!("callgrind_annotate: {error}"))?;
        let text = String::from_utf8_lossy(&report.stdout);
        let heading = if inclusive == "yes" {
            "inclusive"
        } else {
            "self"
        };
        println!(
            "\n## {}: instructions of {PROFILED} warm requests, top functions ({heading})\n",
            target.name
        );
        if let Some(total) = text.lines().find(|line| line.contains("PROG TOTALS")) {
            let instructions: u64 = total
                .split_whitespace()
                .next()
                .map(|count| count.replace(',', ""))
                .and_then(|count| count.parse().ok())
                .unwrap_or(0);
            println!(
                "{} instructions per request",
                instructions / PROFILED as u64
            );
        }
        for line in text
            .lines()
            .skip_while(|line| !line.contains("file:function"))
            .take(40)
        {
            println!("{line}");
        }
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
