//! Phase lines: a spinner that ends in ✓ or ✗ with the phase's duration on a terminal, one
//! plain line per phase otherwise (CI logs).

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
}

pub struct Phase {
    name: String,
    bar: Option<ProgressBar>,
    start: Instant,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    pub(crate) fn new() -> Progress {
        let multi = std::io::stderr().is_terminal().then(MultiProgress::new);
        Progress { multi }
    }

    /// No output at all (library use, tests).
    pub fn hidden() -> Progress {
        Progress {
            multi: Some(MultiProgress::with_draw_target(
                indicatif::ProgressDrawTarget::hidden(),
            )),
        }
    }

    pub fn phase(&self, name: &str) -> Phase {
        let bar = self.multi.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
                    .expect("a valid template"),
            );
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Phase {
            name: name.to_string(),
            bar,
            start: Instant::now(),
        }
    }

    /// Runs `work` as the phase `name`: its line ends in ✓ or ✗ with the duration.
    pub async fn run<T>(
        &self,
        name: &str,
        work: impl AsyncFnOnce(&Phase) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let phase = self.phase(name);
        let result = work(&phase).await;
        phase.finish(result.is_ok());
        result.with_context(|| format!("{name} failed"))
    }

    /// Runs `work`, which needs no handle on its phase, as the phase `name`.
    pub(crate) async fn step<T>(
        &self,
        name: &str,
        work: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        self.run(name, async |_| work.await).await
    }

    pub(crate) fn note(&self, text: &str) {
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(format!("  {text}"));
            }
            None => eprintln!("  {text}"),
        }
    }
}

impl Phase {
    pub(crate) fn message(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.to_string());
        }
    }

    pub(crate) fn finish(self, ok: bool) {
        let mark = if ok { "✓" } else { "✗" };
        let line = format!(
            "{mark} {} ({:.1}s)",
            self.name,
            self.start.elapsed().as_secs_f64()
        );
        match self.bar {
            Some(bar) => {
                bar.set_style(ProgressStyle::with_template("{msg}").expect("a valid template"));
                bar.finish_with_message(line);
            }
            None => eprintln!("{line}"),
        }
    }
}
