//! The host's ip6tables rules for direct IPv6 egress (`--allow-aaaa`), as argument vectors.
//! Reading them back from the host (`ip6tables-save` and the backend) is engine::host's job.

use crate::plan::HostPlan;
use ipnet::Ipv6Net;
use std::fmt;

/// An ip6tables table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Table {
    Filter,
    Nat,
    /// A table dind never writes to, read back from the host under the name it has there
    /// (a rule someone else tagged with a cluster's comment is still deleted with it).
    Other(String),
}

/// An ip6tables chain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Chain {
    Forward,
    Postrouting,
    /// Any other chain, built-in or a user's (DOCKER-USER...), under its name.
    Other(String),
}

/// Where `-I` or `-A` puts a new rule in its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placement {
    /// `-I`: at the head of the chain.
    First,
    /// `-A`: at its end.
    Last,
}

impl Table {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Table::Filter => "filter",
            Table::Nat => "nat",
            Table::Other(name) => name,
        }
    }

    /// Where dind's rules go in this table's chains: filter rules first, ahead of any DROP
    /// or REJECT a host firewall appends; NAT rules (and any other) last.
    fn placement(&self) -> Placement {
        match self {
            Table::Filter => Placement::First,
            Table::Nat | Table::Other(_) => Placement::Last,
        }
    }
}

impl Chain {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Chain::Forward => "FORWARD",
            Chain::Postrouting => "POSTROUTING",
            Chain::Other(name) => name,
        }
    }
}

/// A table by its name: every name is one, those dind does not write stay [`Table::Other`].
impl From<&str> for Table {
    fn from(name: &str) -> Table {
        match name {
            "filter" => Table::Filter,
            "nat" => Table::Nat,
            other => Table::Other(other.to_string()),
        }
    }
}

/// A chain by its name: every name is one, those dind does not know stay [`Chain::Other`].
impl From<&str> for Chain {
    fn from(name: &str) -> Chain {
        match name {
            "FORWARD" => Chain::Forward,
            "POSTROUTING" => Chain::Postrouting,
            other => Chain::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A table equals the name ip6tables gives it.
impl PartialEq<&str> for Table {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

/// A chain equals the name ip6tables gives it.
impl PartialEq<&str> for Chain {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ip6Rule {
    pub(crate) table: Table,
    pub(crate) chain: Chain,
    /// Match and target, without table, command or chain.
    pub(crate) spec: Vec<String>,
}

impl Ip6Rule {
    fn new(table: Table, chain: Chain, spec: &[&str]) -> Ip6Rule {
        Ip6Rule {
            table,
            chain,
            spec: spec.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn with_command(&self, command: &str) -> Vec<String> {
        let mut args = vec![
            "-w".to_string(),
            "-t".into(),
            self.table.to_string(),
            command.into(),
            self.chain.to_string(),
        ];
        args.extend(self.spec.iter().cloned());
        args
    }

    /// `ip6tables -C`: exits 0 when the rule is present.
    pub(crate) fn check_args(&self) -> Vec<String> {
        self.with_command("-C")
    }

    /// `-I` or `-A`, as the rule's table places it.
    pub(crate) fn add_args(&self) -> Vec<String> {
        match self.table.placement() {
            Placement::First => self.with_command("-I"),
            Placement::Last => self.with_command("-A"),
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
    let rule = |table: Table, chain: Chain, matches: &[&str], target: &str| {
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
                Table::Filter,
                Chain::Forward,
                &["-s", &src, "-i", bridge, "-o", egress],
                "ACCEPT",
            ));
            let established = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"];
            let back = [
                &["-d", src.as_str(), "-i", egress, "-o", bridge][..],
                &established[..],
            ]
            .concat();
            rules.push(rule(Table::Filter, Chain::Forward, &back, "ACCEPT"));
        }
        if !daemon.masqueraded.contains(source) {
            rules.push(rule(
                Table::Nat,
                Chain::Postrouting,
                &["-s", &src, "-o", egress],
                "MASQUERADE",
            ));
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_chains_read_back_as_they_are_written() {
        for table in [Table::Filter, Table::Nat, Table::Other("mangle".into())] {
            assert_eq!(Table::from(table.to_string().as_str()), table);
        }
        for chain in [
            Chain::Forward,
            Chain::Postrouting,
            Chain::Other("DOCKER-USER".into()),
        ] {
            assert_eq!(Chain::from(chain.to_string().as_str()), chain);
        }
        assert_eq!(Table::from("filter"), Table::Filter);
        assert_eq!(Table::from("nat"), Table::Nat);
        assert_eq!(Chain::from("FORWARD"), Chain::Forward);
        assert_eq!(Chain::from("POSTROUTING"), Chain::Postrouting);
        // Names are case-sensitive, as ip6tables' are.
        assert_eq!(Table::from("NAT"), Table::Other("NAT".into()));
        assert_eq!(Chain::from("forward"), Chain::Other("forward".into()));
    }

    #[test]
    fn filter_rules_are_inserted_and_every_other_rule_appended() {
        let rule = |table: Table, chain: Chain| Ip6Rule::new(table, chain, &["-j", "ACCEPT"]);
        let command = |rule: Ip6Rule| rule.add_args()[3].clone();
        assert_eq!(command(rule(Table::Filter, Chain::Forward)), "-I");
        assert_eq!(
            command(rule(Table::Filter, Chain::Other("DOCKER-USER".into()))),
            "-I"
        );
        assert_eq!(command(rule(Table::Nat, Chain::Postrouting)), "-A");
        let mangle = rule(
            Table::Other("mangle".into()),
            Chain::Other("PREROUTING".into()),
        );
        assert_eq!(
            mangle.add_args().join(" "),
            "-w -t mangle -A PREROUTING -j ACCEPT"
        );
        assert_eq!(mangle.display(), "-t mangle -A PREROUTING -j ACCEPT");
    }
}
