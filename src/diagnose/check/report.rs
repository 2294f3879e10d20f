//! What `check network` reports: one entry per check, the table and the JSON.

use super::expectation::Expected;
use serde::Serialize;
use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What a check looks at; its string form is what the table and the JSON show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CheckId {
    /// A cluster container runs.
    Running,
    /// The probe nodes have the commands the checks run in them.
    Tools,
    /// The probe node's /etc/resolv.conf names DNS64.
    Resolver,
    NodeToDns64,
    NodeToNat64,
    /// The Docker host's route to the NAT64 pool.
    HostRoute,
    /// The Docker host's ip6tables rules of the direct path.
    HostRules,
    HostForwarding,
    PodToPod,
    /// A name, resolved and connected to from a pod.
    Reach,
}

impl CheckId {
    #[cfg(test)]
    pub(crate) const ALL: [CheckId; 10] = [
        CheckId::Running,
        CheckId::Tools,
        CheckId::Resolver,
        CheckId::NodeToDns64,
        CheckId::NodeToNat64,
        CheckId::HostRoute,
        CheckId::HostRules,
        CheckId::HostForwarding,
        CheckId::PodToPod,
        CheckId::Reach,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CheckId::Running => "running",
            CheckId::Tools => "tools",
            CheckId::Resolver => "resolver",
            CheckId::NodeToDns64 => "node→dns64",
            CheckId::NodeToNat64 => "node→nat64",
            CheckId::HostRoute => "host-route",
            CheckId::HostRules => "host-rules",
            CheckId::HostForwarding => "host-forwarding",
            CheckId::PodToPod => "pod→pod",
            CheckId::Reach => "reach",
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The way a pod's connection to a name went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// To an address under the DNS64 prefix, through tayga.
    Nat64,
    /// To the name's real IPv6 address (`--allow-aaaa`).
    Direct,
}

impl Path {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Path::Nat64 => "nat64",
            Path::Direct => "direct",
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One check: what was checked, whether it passed, what was seen, and where to look.
#[derive(Debug, Serialize)]
pub(crate) struct Check {
    pub(crate) check: CheckId,
    pub(crate) target: String,
    pub(crate) ok: bool,
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<NameResult>,
    /// Not run, since something it needs is down; `ok` is false and `detail` says why.
    /// The JSON has no field of its own for it: the detail begins with "not run".
    #[serde(skip)]
    pub(crate) not_run: bool,
}

impl Check {
    pub(crate) fn ok(check: CheckId, target: &str, detail: String) -> Check {
        Check {
            check,
            target: target.into(),
            ok: true,
            detail,
            hint: None,
            name: None,
            not_run: false,
        }
    }

    pub(crate) fn fail(check: CheckId, target: &str, detail: String, hint: String) -> Check {
        Check {
            check,
            target: target.into(),
            ok: false,
            detail,
            hint: Some(hint),
            name: None,
            not_run: false,
        }
    }

    pub(crate) fn not_run(check: CheckId, target: &str, reason: &str, hint: String) -> Check {
        Check {
            not_run: true,
            ..Check::fail(check, target, format!("not run: {reason}"), hint)
        }
    }
}

/// What a name looked like from each vantage point, and what a connection did.
#[derive(Debug, Serialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NameResult {
    pub(crate) pod_aaaa: Vec<Ipv6Addr>,
    pub(crate) node_aaaa: Vec<Ipv6Addr>,
    /// What the resolver the cluster forwards to answered, asked from the Docker host
    /// (empty when it was not asked or did not answer).
    pub(crate) host_aaaa: Vec<Ipv6Addr>,
    pub(crate) host_a: Vec<Ipv4Addr>,
    /// The pod's answer lies inside the DNS64 prefix.
    pub(crate) synthesized: bool,
    pub(crate) expected: Expected,
    /// None when the expectation is unknown.
    pub(crate) matches_policy: Option<bool>,
    pub(crate) tcp_connected: bool,
    pub(crate) path: Option<Path>,
    /// The IPv4 pool address tayga mapped the probe node to, on the NAT64 path.
    pub(crate) nat64_mapping: Option<Ipv4Addr>,
}

pub(crate) struct Report {
    pub(crate) checks: Vec<Check>,
}

impl Report {
    pub(crate) fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    pub(crate) fn render_table(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|c| c.check.as_str().len() + c.target.len() + 1)
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for check in &self.checks {
            let mark = match (check.ok, check.not_run) {
                (true, _) => "✓",
                (false, false) => "✗",
                (false, true) => "-",
            };
            let what = format!("{} {}", check.check, check.target);
            let _ = writeln!(text, "{mark} {what:<width$}  {}", check.detail);
            if let Some(hint) = check.hint.as_ref().filter(|_| !check.ok) {
                let _ = writeln!(text, "  {:<width$}  → {hint}", "");
            }
        }
        let not_run = self.checks.iter().filter(|c| c.not_run).count();
        let failed = self.checks.iter().filter(|c| !c.ok).count() - not_run;
        let passed = self.checks.len() - failed - not_run;
        let _ = write!(text, "{passed} passed, {failed} failed");
        if not_run > 0 {
            let _ = write!(text, ", {not_run} not run");
        }
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ids_and_paths_print_their_stable_names() {
        let names: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "running",
                "tools",
                "resolver",
                "node→dns64",
                "node→nat64",
                "host-route",
                "host-rules",
                "host-forwarding",
                "pod→pod",
                "reach"
            ]
        );
        for id in CheckId::ALL {
            assert_eq!(serde_json::to_value(id).unwrap(), id.as_str());
            assert_eq!(id.to_string(), id.as_str());
        }
        assert_eq!(serde_json::to_value(Path::Nat64).unwrap(), "nat64");
        assert_eq!(serde_json::to_value(Path::Direct).unwrap(), "direct");
        let check = Check::fail(
            CheckId::NodeToDns64,
            "fd00:20::100",
            "no answer".into(),
            "look".into(),
        );
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["check"], "node→dns64");
        let table = Report {
            checks: vec![check],
        }
        .render_table();
        assert!(table.starts_with("✗ node→dns64 fd00:20::100 "), "{table}");
    }

    #[test]
    fn a_check_not_run_fails_with_its_reason_and_is_counted_apart() {
        let report = Report {
            checks: vec![
                Check::ok(CheckId::Running, "bind9", "container is running".into()),
                Check::fail(
                    CheckId::Running,
                    "tayga",
                    "container is exited".into(),
                    "start it".into(),
                ),
                Check::not_run(
                    CheckId::NodeToNat64,
                    "fd00:10:64:ff9b::ac12:c8",
                    "tayga is not running",
                    "start it".into(),
                ),
            ],
        };
        assert!(!report.passed());
        let json = serde_json::to_value(&report.checks[2]).unwrap();
        let mut fields: Vec<&String> = json.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(fields, ["check", "detail", "hint", "ok", "target"]);
        assert_eq!(json["ok"], false);
        assert_eq!(json["detail"], "not run: tayga is not running");
        let table = report.render_table();
        let line = table.lines().find(|l| l.starts_with("- ")).unwrap();
        assert!(
            line.starts_with("- node→nat64 fd00:10:64:ff9b::ac12:c8 ")
                && line.ends_with("  not run: tayga is not running"),
            "{table}"
        );
        assert!(
            table.ends_with("1 passed, 1 failed, 1 not run\n"),
            "{table}"
        );
    }
}
