//! Medians and the side-by-side table `make bench` prints.

use std::time::Duration;

/// The median of `samples` (the mean of the middle two for an even count).
pub fn median(samples: &mut [Duration]) -> Duration {
    assert!(!samples.is_empty(), "no samples");
    samples.sort();
    let middle = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[middle]
    } else {
        (samples[middle - 1] + samples[middle]) / 2
    }
}

/// A duration in the unit that reads best: `1.23 µs`, `456 µs`, `21.4 ms`.
pub fn duration(value: Duration) -> String {
    let micros = value.as_secs_f64() * 1e6;
    if micros < 10.0 {
        format!("{micros:.2} µs")
    } else if micros < 1000.0 {
        format!("{micros:.0} µs")
    } else {
        format!("{:.1} ms", micros / 1000.0)
    }
}

/// `ours - baseline` as `+12 µs` or `−3.4 µs`, in [`duration`]'s units.
pub fn difference(ours: Duration, baseline: Duration) -> String {
    match ours.checked_sub(baseline) {
        Some(more) => format!("+{}", duration(more)),
        None => format!("−{}", duration(baseline - ours)),
    }
}

/// Bytes as `4.7 MB` (10^6 bytes, as Lambda reports memory and package sizes).
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Whether a figure meets its target; `None` where there is no target or no figure.
#[derive(Clone, Copy)]
pub enum Verdict {
    Met,
    Missed,
    NoTarget,
}

/// One line of the table.
pub struct Row {
    pub figure: String,
    pub baseline: String,
    pub ours: String,
    pub ratio: String,
    pub target: String,
    pub verdict: Verdict,
}

impl Row {
    /// A figure with its baseline, the ratio ours/baseline and the target it is held to.
    pub fn new(figure: &str, baseline: String, ours: String, ratio: Option<f64>) -> Self {
        Self {
            figure: figure.to_owned(),
            baseline,
            ours,
            ratio: ratio.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}×")),
            target: String::new(),
            verdict: Verdict::NoTarget,
        }
    }

    /// This row held to `target`, `met` saying whether it is.
    pub fn target(mut self, target: &str, met: bool) -> Self {
        self.target = target.to_owned();
        self.verdict = if met { Verdict::Met } else { Verdict::Missed };
        self
    }
}

/// The ratio of two durations.
pub fn ratio(ours: Duration, baseline: Duration) -> f64 {
    ours.as_secs_f64() / baseline.as_secs_f64()
}

/// Prints `rows` under `title` as an aligned table, `baseline` and `ours` naming the baseline
/// column and the measured one.
pub fn print_table(title: &str, baseline: &str, ours: &str, rows: &[Row]) {
    let header = ["figure", baseline, ours, "ratio", "target", ""];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            let verdict = match row.verdict {
                Verdict::Met => "met",
                Verdict::Missed => "MISSED",
                Verdict::NoTarget => "",
            };
            [
                row.figure.clone(),
                row.baseline.clone(),
                row.ours.clone(),
                row.ratio.clone(),
                row.target.clone(),
                verdict.to_owned(),
            ]
        })
        .collect();
    let width = |column: usize| {
        cells
            .iter()
            .map(|row| row[column].chars().count())
            .chain([header[column].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..6).map(width).collect();
    let line = |values: [&str; 6]| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(value, width)| format!("{value:<width$}"))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    println!("\n## {title}\n");
    line(header);
    let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in &cells {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
    }
}

/// Whether any row missed its target.
pub fn any_missed(rows: &[Row]) -> bool {
    rows.iter()
        .any(|row| matches!(row.verdict, Verdict::Missed))
}
