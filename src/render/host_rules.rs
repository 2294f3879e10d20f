//! The host's ip6tables rules for direct IPv6 egress (`--allow-aaaa`), as argument vectors.
//! Reading them back from the host (`ip6tables-save` and the backend) is engine::host's job.

use crate::plan::HostPlan;
use ipnet::Ipv6Net;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ip6Rule {
    pub(crate) table: String,
    pub(crate) chain: String,
    /// Match and target, without table, command or chain.
    pub(crate) spec: Vec<String>,
}

impl Ip6Rule {
    fn new(table: &str, chain: &str, spec: &[&str]) -> Ip6Rule {
        Ip6Rule {
            table: table.to_string(),
            chain: chain.to_string(),
            spec: spec.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn with_command(&self, command: &str) -> Vec<String> {
        let mut args = vec![
            "-w".to_string(),
            "-t".into(),
            self.table.clone(),
            command.into(),
            self.chain.clone(),
        ];
        args.extend(self.spec.iter().cloned());
        args
    }

    /// `ip6tables -C`: exits 0 when the rule is present.
    pub(crate) fn check_args(&self) -> Vec<String> {
        self.with_command("-C")
    }

    /// FORWARD rules go first, ahead of any DROP or REJECT a host firewall appends;
    /// NAT rules are appended.
    pub(crate) fn add_args(&self) -> Vec<String> {
        if self.table == "filter" {
            self.with_command("-I")
        } else {
            self.with_command("-A")
        }
    }

    pub(crate) fn delete_args(&self) -> Vec<String> {
        self.with_command("-D")
    }

    /// The rule as shell-quoted ip6tables arguments (`-t TABLE -A CHAIN ...`), for reports.
    pub(crate) fn display(&self) -> String {
        let quoted: Vec<String> = self
            .spec
            .iter()
            .map(|s| {
                shlex::try_quote(s)
                    .map(|q| q.into_owned())
                    .unwrap_or_else(|_| s.clone())
            })
            .collect();
        format!("-t {} -A {} {}", self.table, self.chain, quoted.join(" "))
    }
}

/// What the Docker daemon's own ip6tables rules already do for the cluster's bridge, as
/// read from the host (Docker 27 and later write IPv6 rules; 20.10 writes none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DaemonRules {
    /// Sources the daemon masquerades (`-s <subnet> ! -o <bridge> -j MASQUERADE`).
    pub(crate) masqueraded: Vec<Ipv6Net>,
    /// The daemon accepts what leaves the bridge and the replies coming back (28 and
    /// later: `DOCKER-FORWARD -i <bridge> -j ACCEPT` and `DOCKER-CT -o <bridge> ...
    /// RELATED,ESTABLISHED -j ACCEPT`), ahead of its own DROP policy.
    pub(crate) forwards: bool,
}

/// The rules that let the cluster's IPv6 sources reach IPv6 sites directly: only those the
/// daemon does not already provide. NAT rules are left out for sources the daemon
/// masquerades, FORWARD rules when it accepts the bridge's traffic both ways.
pub(crate) fn direct_ipv6_rules(
    host: &HostPlan,
    bridge: &str,
    daemon: &DaemonRules,
) -> Vec<Ip6Rule> {
    let Some(egress) = host.egress_interface.as_deref() else {
        return Vec::new();
    };
    let rule = |table: &str, chain: &str, matches: &[&str], target: &str| {
        let mut spec: Vec<&str> = matches.to_vec();
        spec.extend([
            "-m",
            "comment",
            "--comment",
            host.rule_tag.as_str(),
            "-j",
            target,
        ]);
        Ip6Rule::new(table, chain, &spec)
    };
    let mut rules = Vec::new();
    for source in &host.direct_ipv6_sources {
        let src = source.to_string();
        if !daemon.forwards {
            rules.push(rule(
                "filter",
                "FORWARD",
                &["-s", &src, "-i", bridge, "-o", egress],
                "ACCEPT",
            ));
            let established = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"];
            let back = [
                &["-d", src.as_str(), "-i", egress, "-o", bridge][..],
                &established[..],
            ]
            .concat();
            rules.push(rule("filter", "FORWARD", &back, "ACCEPT"));
        }
        if !daemon.masqueraded.contains(source) {
            rules.push(rule(
                "nat",
                "POSTROUTING",
                &["-s", &src, "-o", egress],
                "MASQUERADE",
            ));
        }
    }
    rules
}
