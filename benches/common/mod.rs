//! Shared by the benchmarks (`benches/*.rs`, harness = false): the entry point that only
//! runs under `cargo bench`, statistics, and the table printer.
#![allow(dead_code)]

use anyhow::{anyhow, Result};
use std::future::Future;
use std::process::{Command, ExitCode};

/// Runs `work` and prints what it returns (the report) on stdout, but only when cargo
/// bench started us: `cargo test --all-targets` runs harness = false bench targets too,
/// without `--bench`, and then there is nothing to do.
///
/// Ctrl-C drops the running benchmark, so the fixtures it holds (cluster, simulated
/// Internet, scripts' objects) are removed by their `Drop` before the process exits.
pub fn bench_main<F>(name: &str, work: impl FnOnce() -> F) -> ExitCode
where
    F: Future<Output = Result<String>>,
{
    if !std::env::args().skip(1).any(|a| a == "--bench") {
        eprintln!("{name}: benchmark skipped (run it with `cargo bench --bench {name}`)");
        return ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = runtime.block_on(async {
        tokio::select! {
            report = work() => report,
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted; what the benchmark made was removed")),
        }
    });
    match outcome {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{name}: benchmark failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// One progress line on stderr (the report goes to stdout).
pub fn say(name: &str, text: &str) {
    eprintln!("[{name}] {text}");
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    assert!(!samples.is_empty(), "no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median; the lower middle one for an even count.
pub fn median(samples: &[f64]) -> f64 {
    percentile(samples, 50.0)
}

pub fn mean(samples: &[f64]) -> f64 {
    samples.iter().sum::<f64>() / samples.len() as f64
}

/// `a / b` as "1.23x", or "n/a" when b is zero.
pub fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "n/a".to_string()
    } else {
        format!("{:.2}x", a / b)
    }
}

/// A Markdown table, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "?".to_string())
}

/// The 1-minute load average, to tell a quiet machine from a busy one.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

/// "2026-11-26, 2 cores, Docker 20.10.24, Linux 6.1.0": where and when the numbers were
/// measured.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{}, {cores} cores, Docker {}, Linux {}",
        command_line("date", &["-u", "+%F"]),
        command_line("docker", &["version", "--format", "{{.Server.Version}}"]),
        command_line("uname", &["-r"]),
    )
}

/// What a benchmark holds while it runs: the e2e lock (no suite runs beside it), the
/// simulated Internet (every cluster's DNS64 forwards to it), an engine, and the machine's
/// load when it started.
pub struct Exclusive {
    pub _serial: crate::support::Serial,
    pub _wan: crate::support::Wan,
    pub engine: dind::engine::docker::Engine,
    pub load_before: String,
}

pub async fn exclusive(name: &str) -> Result<Exclusive> {
    say(name, "waiting for the e2e lock (/tmp/dind-e2e.lock)");
    let serial = crate::support::serial().await;
    let load_before = load();
    say(name, "starting the simulated Internet");
    let wan = crate::support::Wan::start()
        .await
        .map_err(|e| anyhow!("simulated Internet: {e:#}"))?;
    Ok(Exclusive {
        _serial: serial,
        _wan: wan,
        engine: crate::support::engine().await,
        load_before,
    })
}

/// Downloads `url` (`bytes` long) in `pod` with curl to /dev/null: bytes per second.
pub async fn download(pod: &crate::support::Pod, url: &str, bytes: u64) -> Result<f64> {
    let out = pod
        .run(&[
            "curl",
            "-sS",
            "-g",
            "-o",
            "/dev/null",
            "--max-time",
            "600",
            "-w",
            "%{size_download} %{time_total}",
            url,
        ])
        .await?;
    if !out.success() {
        return Err(anyhow!(
            "curl {url} failed in pod {}: {}",
            pod.name,
            out.stderr.trim()
        ));
    }
    let fields: Vec<&str> = out.stdout.split_whitespace().collect();
    let [size, total] = fields[..] else {
        return Err(anyhow!("unexpected curl output {:?}", out.stdout));
    };
    let size: u64 = size.parse()?;
    let total: f64 = total.parse()?;
    if size != bytes {
        return Err(anyhow!("got {size} bytes from {url}, expected {bytes}"));
    }
    Ok(size as f64 / total)
}
