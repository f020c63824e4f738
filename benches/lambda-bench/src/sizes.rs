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
    // `Name: bootstrap <machine> ELF executable, interpreter <path>, 12.80 MB, zipped 5.90 MB`
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(": ")?;
            let zipped = rest.split("zipped ").nth(1)?.split(' ').next()?;
            Some((name.to_owned(), zipped.parse().ok()?))
        })
        .collect())
}

/// Bytes of `bootstrap` zipped as Lambda takes it, by `bootstrap_sizes.py`'s own function.
fn zipped_bytes(repo: &Path, bootstrap: &Path) -> Option<u64> {
    const ZIPPED: &str = "import pathlib, sys\n\
        sys.path.insert(0, sys.argv[1])\n\
        from bootstrap_sizes import zipped_size\n\
        print(zipped_size(pathlib.Path(sys.argv[2])))";
    let output = Command::new(repo.join(".venv/bin/python"))
        .args(["-c", ZIPPED])
        .arg(repo.join("infra/local"))
        .arg(bootstrap)
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// The zipped x86_64 release bootstraps this bench ran: not what Lambda gets (arm64), but
/// built every time, so each run shows a size next to the hello-world one.
pub fn local_row(repo: &Path, api: &Path, hello: &Path) -> Row {
    match (zipped_bytes(repo, api), zipped_bytes(repo, hello)) {
        (Some(api), Some(hello)) => Row::new(
            "zipped x86_64 release bootstrap of this run (info)",
            format!("{:.2} MB", hello as f64 / 1e6),
            format!("{:.2} MB", api as f64 / 1e6),
            Some(api as f64 / hello as f64),
        ),
        _ => Row::new(
            "zipped x86_64 release bootstrap of this run (info)",
            "—".to_owned(),
            "not measured: no .venv".to_owned(),
            None,
        ),
    }
}

/// One row per function: the SAM functions from `infra/.aws-sam/build`, next to the hello-world
/// function from cargo-lambda's `target/lambda` when it was built for arm64 there.
pub fn rows(repo: &Path) -> Vec<Row> {
    let hello_arm64 = repo.join("target/lambda/hello-lambda/bootstrap");
    let hello = hello_arm64
        .is_file()
        .then(|| zipped_bytes(repo, &hello_arm64))
        .flatten()
        .map(|bytes| bytes as f64 / 1e6);
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
