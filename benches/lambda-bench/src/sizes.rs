//! The zipped arm64 bootstrap of each function, as `make build` leaves it (sam build through
//! cargo-lambda): what Lambda downloads on a cold start. Sizes come from
//! `infra/local/bootstrap_sizes.py`, the script `make build` prints them with.

use std::path::Path;
use std::process::Command;

use crate::report::Row;

/// Largest zipped bootstrap the targets allow, in bytes.
const TARGET_BYTES: f64 = 4e6;

/// `(function, zipped MB)` for each `*/bootstrap` under `dir`, or why there are none.
fn zipped_sizes(repo: &Path, dir: &Path) -> Result<Vec<(String, f64)>, String> {
    if !dir.is_dir() {
        return Err("not built".to_owned());
    }
    let output = Command::new(repo.join(".venv/bin/python"))
        .arg(repo.join("infra/local/bootstrap_sizes.py"))
        .arg(dir)
        .output()
        .map_err(|error| format!("bootstrap_sizes.py: {error}"))?;
    if !output.status.success() {
        return Err("not built".to_owned());
    }
    // `Name: bootstrap 5.12 MB, zipped 2.01 MB`
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(": ")?;
            let zipped = rest.split("zipped ").nth(1)?.split(' ').next()?;
            Some((name.to_owned(), zipped.parse().ok()?))
        })
        .collect())
}

/// One row per function: the SAM functions from `infra/.aws-sam/build`, the hello-world
/// function from cargo-lambda's `target/lambda` when it was built for arm64 there.
pub fn rows(repo: &Path) -> Vec<Row> {
    let hello = zipped_sizes(repo, &repo.join("target/lambda"))
        .ok()
        .and_then(|sizes| sizes.into_iter().find(|(name, _)| name == "hello-lambda"))
        .map(|(_, mb)| mb);
    let baseline = hello.map_or_else(
        || "not built: cargo lambda build --release --arm64 -p hello-lambda".to_owned(),
        |mb| format!("{mb:.2} MB"),
    );
    match zipped_sizes(repo, &repo.join("infra/.aws-sam/build")) {
        Ok(sizes) if !sizes.is_empty() => sizes
            .into_iter()
            .map(|(name, mb)| {
                Row::new(
                    &format!("zipped arm64 bootstrap: {name}"),
                    baseline.clone(),
                    format!("{mb:.2} MB"),
                    hello.map(|hello| mb / hello),
                )
                .target("≤ 4 MB", mb * 1e6 <= TARGET_BYTES)
            })
            .collect(),
        _ => vec![Row::new(
            "zipped arm64 bootstrap",
            baseline,
            "not built: run make build".to_owned(),
            None,
        )],
    }
}
