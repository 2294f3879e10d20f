//! `dind doctor`: the Docker host's preflight for a config, every finding shown. The same
//! facts and the same judgement decide whether `up` goes ahead (see [`crate::preflight`]).

use crate::config::Config;
use crate::engine::docker::Engine;
use crate::plan::{self, ClusterPlan};
use crate::preflight::{self, Finding, HostFacts, Level};
use crate::progress::Progress;
use anyhow::Result;
use std::fmt::Write;

fn mark(level: Level) -> &'static str {
    match level {
        Level::Pass => "✓",
        Level::Warn => "!",
        Level::Fail => "✗",
    }
}

pub(crate) struct Report {
    pub(crate) findings: Vec<Finding>,
}

impl Report {
    /// What doctor reports on these facts: every finding of the judgement `up` obeys.
    pub(crate) fn from_facts(
        config: &Config,
        cluster_plan: &ClusterPlan,
        facts: &HostFacts,
    ) -> Report {
        Report {
            findings: preflight::judge(config, cluster_plan, facts),
        }
    }

    /// Warnings do not fail the preflight.
    pub(crate) fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.level != Level::Fail)
    }

    pub(crate) fn render_table(&self) -> String {
        let width = self
            .findings
            .iter()
            .map(|f| f.check.name().chars().count())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for f in &self.findings {
            let _ = writeln!(
                text,
                "{} {:<width$}  {}",
                mark(f.level),
                f.check.name(),
                f.detail
            );
            if let Some(hint) = &f.hint {
                let _ = writeln!(text, "  {:<width$}  hint: {hint}", "");
            }
        }
        let count = |l: Level| self.findings.iter().filter(|f| f.level == l).count();
        let _ = writeln!(
            text,
            "{} ok, {} warning(s), {} failed",
            count(Level::Pass),
            count(Level::Warn),
            count(Level::Fail)
        );
        text
    }
}

pub(crate) async fn doctor(
    engine: &Engine,
    config: &Config,
    progress: &Progress,
) -> Result<Report> {
    let cluster_plan = plan::plan(config);
    let facts = progress
        .run("Inspecting the Docker host", async |phase| {
            preflight::gather(engine, config, &cluster_plan, phase).await
        })
        .await?;
    Ok(Report::from_facts(config, &cluster_plan, &facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::judge_tests::{cases, config};
    use crate::preflight::Check;
    use Level::{Fail, Pass, Warn};

    /// `up` and `doctor` agree on every host of the table: `up` refuses exactly when doctor
    /// fails, and every check that can fail does so in some case, so a check added to the
    /// judgement needs a case here.
    #[test]
    fn up_refuses_exactly_the_hosts_doctor_fails() {
        let mut failing = std::collections::HashSet::new();
        for (what, settings, facts, _) in cases() {
            let config = config(&settings);
            let cluster_plan = plan::plan(&config);
            let report = Report::from_facts(&config, &cluster_plan, &facts);
            let up_refuses = preflight::up_verdict(&config, &cluster_plan, &facts).is_err();
            assert_eq!(
                up_refuses,
                !report.passed(),
                "{what}: {:#?}",
                report.findings
            );
            failing.extend(
                report
                    .findings
                    .iter()
                    .filter(|f| f.level == Fail)
                    .map(|f| f.check),
            );
        }
        let never_fail = [
            Check::Daemon,
            Check::Cgroup,
            Check::NodePrivilege,
            Check::IptablesBackend,
            Check::DaemonIpv6Nat,
            Check::ForwardPolicy,
            Check::Ipv6Forwarding,
        ];
        for check in Check::ALL.iter().filter(|c| !never_fail.contains(c)) {
            assert!(failing.contains(check), "no case fails {check:?}");
        }
    }

    #[test]
    fn the_report_fails_only_on_failures() {
        let report = |levels: &[Level]| Report {
            findings: levels
                .iter()
                .map(|l| Finding::new(Check::Tun, *l, "d"))
                .collect(),
        };
        assert!(report(&[Pass, Warn]).passed());
        assert!(!report(&[Pass, Warn, Fail]).passed());
    }

    #[test]
    fn the_table_aligns_and_shows_hints() {
        let report = Report {
            findings: vec![
                Finding::new(Check::Daemon, Pass, "Docker 28.0.1"),
                Finding::new(Check::Tun, Fail, "no tun").hint("modprobe"),
            ],
        };
        let table = report.render_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "✓ daemon  Docker 28.0.1");
        assert_eq!(lines[1], "✗ tun     no tun");
        assert_eq!(lines[2], "          hint: modprobe");
        assert_eq!(lines[3], "1 ok, 0 warning(s), 1 failed");
    }

    #[test]
    fn findings_serialize_with_their_names_and_lowercase_statuses() {
        let json = serde_json::to_value(Finding::new(Check::DaemonIpv6Nat, Warn, "d")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"check": "daemon-ipv6-nat", "status": "warn", "detail": "d", "hint": null})
        );
        let json = serde_json::to_value(Finding::new(Check::Tun, Pass, "d").hint("h")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"check": "tun", "status": "ok", "detail": "d", "hint": "h"})
        );
    }
}
