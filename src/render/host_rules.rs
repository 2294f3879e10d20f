//! The host's ip6tables rules for direct IPv6 egress (`--allow-aaaa`), as argument vectors,
//! and the parsing of `ip6tables-save` output that finds them again.

use crate::plan::HostPlan;
use ipnet::Ipv6Net;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ip6Rule {
    pub table: String,
    pub chain: String,
    /// Match and target, without table, command or chain.
    pub spec: Vec<String>,
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
    pub fn check_args(&self) -> Vec<String> {
        self.with_command("-C")
    }

    /// FORWARD rules go first, ahead of any DROP or REJECT a host firewall appends;
    /// NAT rules are appended.
    pub fn add_args(&self) -> Vec<String> {
        if self.table == "filter" {
            self.with_command("-I")
        } else {
            self.with_command("-A")
        }
    }

    pub fn delete_args(&self) -> Vec<String> {
        self.with_command("-D")
    }

    /// The rule as shell-quoted ip6tables arguments (`-t TABLE -A CHAIN ...`), for reports.
    pub fn display(&self) -> String {
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

/// The rules that let the cluster's IPv6 sources reach IPv6 sites directly. NAT rules are
/// left out for sources the Docker daemon already masquerades (Docker 27+).
pub fn direct_ipv6_rules(host: &HostPlan, bridge: &str, daemon_nats: &[Ipv6Net]) -> Vec<Ip6Rule> {
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
        if !daemon_nats.contains(source) {
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

/// One `-A` line of `ip6tables-save`, split into its table and words.
fn save_rules(save: &str) -> impl Iterator<Item = (String, Vec<String>)> + '_ {
    let mut table = String::new();
    save.lines().filter_map(move |line| {
        if let Some(name) = line.strip_prefix('*') {
            table = name.trim().to_string();
            return None;
        }
        let rest = line.strip_prefix("-A ")?;
        let words = shlex::split(rest)?;
        Some((table.clone(), words))
    })
}

fn comment_of(words: &[String]) -> Option<&str> {
    words
        .windows(2)
        .find(|w| w[0] == "--comment")
        .map(|w| w[1].as_str())
}

/// Every rule in `save` whose comment is exactly `tag`, ready for `-D`.
pub fn tagged_rules(save: &str, tag: &str) -> Vec<Ip6Rule> {
    save_rules(save)
        .filter(|(_, words)| comment_of(words) == Some(tag))
        .filter_map(|(table, mut words)| {
            if words.is_empty() {
                return None;
            }
            let chain = words.remove(0);
            Some(Ip6Rule {
                table,
                chain,
                spec: words,
            })
        })
        .collect()
}

/// True when some rule not made by dind already masquerades `source` (Docker 27+ does this
/// for IPv6 networks when its ip6tables support is on).
pub fn daemon_masquerades(save: &str, source: &Ipv6Net) -> bool {
    let src = source.to_string();
    save_rules(save).any(|(table, words)| {
        table == "nat"
            && words.first().map(String::as_str) == Some("POSTROUTING")
            && words
                .windows(3)
                .any(|w| w[0] != "!" && w[1] == "-s" && w[2] == src)
            && words
                .windows(2)
                .any(|w| w[0] == "-j" && w[1] == "MASQUERADE")
            && !comment_of(&words).is_some_and(|c| c.starts_with("dind:"))
    })
}

/// The `sources` that the daemon already masquerades, per [`daemon_masquerades`].
pub fn daemon_masqueraded(save: &str, sources: &[Ipv6Net]) -> Vec<Ipv6Net> {
    sources
        .iter()
        .filter(|s| daemon_masquerades(save, s))
        .copied()
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Nft,
    Legacy,
}

impl Backend {
    pub fn ip6tables(self) -> &'static str {
        match self {
            Backend::Nft => "ip6tables-nft",
            Backend::Legacy => "ip6tables-legacy",
        }
    }
    pub fn ip6tables_save(self) -> &'static str {
        match self {
            Backend::Nft => "ip6tables-nft-save",
            Backend::Legacy => "ip6tables-legacy-save",
        }
    }
}

/// The backend the host's own tools use: the one holding more rules (as Kubernetes'
/// iptables-wrapper decides); nft when neither holds any.
pub fn choose_backend(legacy_saves: &str, nft_saves: &str) -> Backend {
    let count = |s: &str| s.lines().filter(|l| l.starts_with("-A ")).count();
    if count(legacy_saves) > count(nft_saves) {
        Backend::Legacy
    } else {
        Backend::Nft
    }
}
