//! Phase lines. On a terminal, a spinner that ends in ✓ or ✗ with the phase's duration;
//! otherwise (CI logs, NO_COLOR, TERM=dumb) a plain line when a phase starts and one when it
//! ends; on GitHub Actions, each top-level phase also in a `::group::`. `--quiet` shows
//! none of it, `--verbose` adds the output of image builds and kubeadm.

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How phases are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A spinner per phase, redrawn in place.
    Spinner,
    /// One line when a phase starts, one when it ends.
    Lines,
    /// [`Mode::Lines`], each top-level phase in a GitHub Actions log group.
    GithubGroups,
    /// Nothing; errors are printed by the caller.
    Quiet,
}

/// How much the user asked to see (`-q`, default, `-v`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Verbosity {
    Quiet,
    #[default]
    Normal,
    Verbose,
}

impl Mode {
    /// The mode for stderr: `stderr_is_terminal`, and the environment's GITHUB_ACTIONS,
    /// NO_COLOR and TERM.
    pub fn select(
        verbosity: Verbosity,
        stderr_is_terminal: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Mode {
        let set = |name: &str| env(name).filter(|v| !v.is_empty());
        if verbosity == Verbosity::Quiet {
            Mode::Quiet
        } else if set("GITHUB_ACTIONS").as_deref() == Some("true") {
            Mode::GithubGroups
        } else if !stderr_is_terminal
            || set("NO_COLOR").is_some()
            || set("TERM").as_deref() == Some("dumb")
        {
            Mode::Lines
        } else {
            Mode::Spinner
        }
    }
}

#[derive(Clone)]
pub struct Progress {
    mode: Mode,
    verbose: bool,
    multi: Option<MultiProgress>,
    /// Phases started and not yet ended: a group opens only when none is.
    open: Arc<AtomicUsize>,
}

pub struct Phase {
    name: String,
    bar: Option<ProgressBar>,
    start: Instant,
    progress: Progress,
    grouped: bool,
    ended: bool,
}

impl Default for Progress {
    fn default() -> Self {
        Self::hidden()
    }
}

impl Progress {
    /// The display for this process's stderr and environment.
    pub(crate) fn for_stderr(verbosity: Verbosity) -> Progress {
        let env = |name: &str| std::env::var(name).ok();
        let mode = Mode::select(verbosity, std::io::stderr().is_terminal(), env);
        Progress::with_mode(mode, verbosity == Verbosity::Verbose)
    }

    pub fn with_mode(mode: Mode, verbose: bool) -> Progress {
        Progress {
            mode,
            verbose: verbose && mode != Mode::Quiet,
            multi: (mode == Mode::Spinner).then(MultiProgress::new),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// No output at all (library use, tests).
    pub fn hidden() -> Progress {
        Progress::with_mode(Mode::Quiet, false)
    }

    pub fn phase(&self, name: &str) -> Phase {
        let top_level = self.open.fetch_add(1, Ordering::SeqCst) == 0;
        let grouped = top_level && self.mode == Mode::GithubGroups;
        if grouped {
            eprintln!("::group::{name}");
        }
        if matches!(self.mode, Mode::Lines | Mode::GithubGroups) {
            eprintln!("{name} ...");
        }
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
            progress: self.clone(),
            grouped,
            ended: false,
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

    /// A line of its own under the phases (a warning, a wait); none when quiet.
    pub(crate) fn note(&self, text: &str) {
        self.print(&format!("  {text}"));
    }

    /// One line of a tool's output (`source`: what printed it), with `--verbose` only.
    pub(crate) fn output(&self, source: &str, line: &str) {
        if self.verbose {
            self.print(&format!("  {source}| {line}"));
        }
    }

    fn print(&self, line: &str) {
        match (&self.multi, self.mode) {
            (_, Mode::Quiet) => {}
            (Some(multi), _) => {
                let _ = multi.println(line);
            }
            (None, _) => eprintln!("{line}"),
        }
    }
}

impl Phase {
    pub(crate) fn message(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.to_string());
        }
    }

    /// [`Progress::output`] of the phase's progress.
    pub(crate) fn output(&self, source: &str, line: &str) {
        self.progress.output(source, line);
    }

    pub(crate) fn finish(mut self, ok: bool) {
        self.end(ok);
    }

    fn end(&mut self, ok: bool) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        self.progress.open.fetch_sub(1, Ordering::SeqCst);
        let seconds = self.start.elapsed().as_secs_f64();
        if let Some(bar) = self.bar.take() {
            let mark = if ok { "✓" } else { "✗" };
            bar.set_style(ProgressStyle::with_template("{msg}").expect("a valid template"));
            bar.finish_with_message(format!("{mark} {} ({seconds:.1}s)", self.name));
            return;
        }
        if self.grouped {
            eprintln!("::endgroup::");
        }
        if matches!(self.progress.mode, Mode::Lines | Mode::GithubGroups) {
            eprintln!("{}", end_line(&self.name, ok, seconds));
        }
    }
}

/// A phase dropped before it finished (its work was cancelled) ends as failed.
impl Drop for Phase {
    fn drop(&mut self) {
        self.end(false);
    }
}

/// The plain line that ends a phase.
fn end_line(name: &str, ok: bool, seconds: f64) -> String {
    match ok {
        true => format!("{name}: done in {seconds:.1}s"),
        false => format!("{name}: failed after {seconds:.1}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_terminal_gets_the_spinner_unless_colour_or_cursor_moves_are_refused() {
        let normal = Verbosity::Normal;
        assert_eq!(Mode::select(normal, true, env(&[])), Mode::Spinner);
        assert_eq!(
            Mode::select(normal, true, env(&[("TERM", "xterm-256color")])),
            Mode::Spinner
        );
        assert_eq!(
            Mode::select(Verbosity::Verbose, true, env(&[])),
            Mode::Spinner
        );
        assert_eq!(
            Mode::select(normal, true, env(&[("NO_COLOR", "1")])),
            Mode::Lines
        );
        // NO_COLOR counts only when not empty (no-color.org).
        assert_eq!(
            Mode::select(normal, true, env(&[("NO_COLOR", "")])),
            Mode::Spinner
        );
        assert_eq!(
            Mode::select(normal, true, env(&[("TERM", "dumb")])),
            Mode::Lines
        );
    }

    #[test]
    fn a_pipe_gets_lines_github_actions_groups_and_quiet_nothing() {
        let normal = Verbosity::Normal;
        assert_eq!(Mode::select(normal, false, env(&[])), Mode::Lines);
        let actions = [("GITHUB_ACTIONS", "true")];
        assert_eq!(
            Mode::select(normal, false, env(&actions)),
            Mode::GithubGroups
        );
        assert_eq!(
            Mode::select(normal, true, env(&actions)),
            Mode::GithubGroups
        );
        assert_eq!(
            Mode::select(normal, false, env(&[("GITHUB_ACTIONS", "false")])),
            Mode::Lines
        );
        for tty in [true, false] {
            assert_eq!(
                Mode::select(Verbosity::Quiet, tty, env(&actions)),
                Mode::Quiet
            );
        }
    }

    #[test]
    fn only_a_phase_started_while_none_runs_opens_a_group() {
        let progress = Progress::with_mode(Mode::GithubGroups, false);
        let outer = progress.phase("outer");
        let inner = progress.phase("inner");
        assert!(outer.grouped && !inner.grouped);
        inner.finish(true);
        outer.finish(true);
        let next = progress.phase("next");
        assert!(next.grouped, "a later top-level phase gets its own group");
        drop(next);
        assert_eq!(
            progress.open.load(Ordering::SeqCst),
            0,
            "a dropped phase ends"
        );
        let lines = Progress::with_mode(Mode::Lines, false).phase("plain");
        assert!(!lines.grouped);
    }

    #[test]
    fn end_lines_say_done_or_failed_with_the_duration() {
        assert_eq!(
            end_line("Creating network", true, 1.25),
            "Creating network: done in 1.2s"
        );
        assert_eq!(
            end_line("Building x", false, 30.0),
            "Building x: failed after 30.0s"
        );
    }

    #[test]
    fn tool_output_is_kept_for_verbose_and_never_shown_when_quiet() {
        assert!(Progress::with_mode(Mode::Lines, true).verbose);
        assert!(!Progress::with_mode(Mode::Lines, false).verbose);
        assert!(!Progress::with_mode(Mode::Quiet, true).verbose);
    }
}
