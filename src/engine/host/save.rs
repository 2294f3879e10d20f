//! What the Docker host's `iptables-save` / `ip6tables-save` print, read back: the rules a
//! cluster tagged, the sources the daemon already masquerades, and which backend (nft or
//! legacy) the host's own tools use. Pure functions of the text the host printed.

use crate::labels::ForwardPolicy;
use crate::render::host_rules::{Chain, DaemonRules, Ip6Rule, Table};
use ipnet::Ipv6Net;
use std::collections::BTreeSet;

/// Each line of `save` below a `*TABLE` header, with that table (lines before any header
/// belong to a nameless one).
fn table_lines(save: &str) -> impl Iterator<Item = (Table, &str)> + '_ {
    let mut table = Table::from("");
    save.lines()
        .filter_map(move |line| match line.strip_prefix('*') {
            Some(name) => {
                table = Table::from(name.trim());
                None
            }
            None => Some((table.clone(), line)),
        })
}

/// One `-A` line of `ip6tables-save`: its table, its chain and the words after the chain.
struct SavedRule {
    table: Table,
    chain: Chain,
    words: Vec<String>,
}

fn save_rules(save: &str) -> impl Iterator<Item = SavedRule> + '_ {
    table_lines(save).filter_map(|(table, line)| {
        let mut words = shlex::split(line.strip_prefix("-A ")?)?;
        if words.is_empty() {
            return None;
        }
        let chain = Chain::from(words.remove(0).as_str());
        Some(SavedRule {
            table,
            chain,
            words,
        })
    })
}

/// The chains `save` declares (`:NAME POLICY [counters]`), with their policy: `-` for a
/// user chain.
fn declared_chains(save: &str) -> impl Iterator<Item = (Table, Chain, &str)> + '_ {
    table_lines(save).filter_map(|(table, line)| {
        let mut words = line.strip_prefix(':')?.split_whitespace();
        let (name, policy) = (words.next()?, words.next()?);
        Some((table, Chain::from(name), policy))
    })
}

fn comment_of(words: &[String]) -> Option<&str> {
    words
        .windows(2)
        .find(|w| w[0] == "--comment")
        .map(|w| w[1].as_str())
}

fn is_dinds(words: &[String]) -> bool {
    comment_of(words).is_some_and(|c| c.starts_with("dind:"))
}

/// Every rule in `save` whose comment is exactly `tag`, ready for `-D`.
pub(crate) fn tagged_rules(save: &str, tag: &str) -> Vec<Ip6Rule> {
    save_rules(save)
        .filter(|rule| comment_of(&rule.words) == Some(tag))
        .map(|rule| Ip6Rule {
            table: rule.table,
            chain: rule.chain,
            spec: rule.words,
        })
        .collect()
}

/// True when some rule not made by dind already masquerades `source` (Docker 27+ does this
/// for IPv6 networks when its ip6tables support is on).
pub(crate) fn daemon_masquerades(save: &str, source: &Ipv6Net) -> bool {
    let src = source.to_string();
    save_rules(save).any(|rule| {
        let words = &rule.words;
        rule.table == Table::Nat
            && rule.chain == Chain::Postrouting
            && (0..words.len().saturating_sub(1)).any(|at| {
                words[at] == "-s" && words[at + 1] == src && (at == 0 || words[at - 1] != "!")
            })
            && words
                .windows(2)
                .any(|w| w[0] == "-j" && w[1] == "MASQUERADE")
            && !is_dinds(words)
    })
}

/// The `sources` that the daemon already masquerades, per [`daemon_masquerades`].
pub(crate) fn daemon_masqueraded(save: &str, sources: &[Ipv6Net]) -> Vec<Ipv6Net> {
    sources
        .iter()
        .filter(|s| daemon_masquerades(save, s))
        .copied()
        .collect()
}

/// The filter table's FORWARD policy; None when `save` has no filter table (which filters
/// nothing: no table is as good as ACCEPT).
pub(crate) fn forward_policy(save: &str) -> Option<ForwardPolicy> {
    declared_chains(save)
        .find(|(table, chain, _)| *table == Table::Filter && *chain == Chain::Forward)
        .and_then(|(_, _, policy)| policy.parse().ok())
}

/// The user chains `save` declares in the filter table.
fn filter_user_chains(save: &str) -> impl Iterator<Item = Chain> + '_ {
    declared_chains(save)
        .filter(|(table, _, policy)| *table == Table::Filter && *policy == "-")
        .map(|(_, chain, _)| chain)
}

/// The daemon's own chains in the filter table (DOCKER, DOCKER-USER, DOCKER-FORWARD...):
/// Docker writes them into ip6tables when its IPv6 firewall support is on, the default from
/// Docker 27. Docker 20.10 writes none.
pub(crate) fn docker_chains(save: &str) -> Vec<String> {
    filter_user_chains(save)
        .map(|chain| chain.to_string())
        .filter(|c| c == "DOCKER" || c.starts_with("DOCKER-"))
        .collect()
}

/// True when the daemon's rules accept what leaves `bridge` and the replies coming back, in
/// chains that FORWARD reaches: Docker 28 and later (`DOCKER-FORWARD -i br -j ACCEPT`,
/// `DOCKER-CT -o br ... RELATED,ESTABLISHED -j ACCEPT`), and 27's rules in FORWARD itself
/// (`-i br ! -o br -j ACCEPT`). dind's own rules do not count.
pub(crate) fn daemon_forwards(save: &str, bridge: &str) -> bool {
    let rules: Vec<(Chain, Vec<String>)> = save_rules(save)
        .filter(|rule| rule.table == Table::Filter && !is_dinds(&rule.words))
        .map(|rule| (rule.chain, rule.words))
        .collect();
    let user_chains: BTreeSet<Chain> = filter_user_chains(save).collect();
    let mut reached = BTreeSet::from([Chain::Forward]);
    loop {
        let more: Vec<Chain> = rules
            .iter()
            .filter(|(chain, _)| reached.contains(chain))
            .filter_map(|(_, words)| {
                let at = words.iter().position(|w| w == "-j" || w == "-g")?;
                Some(Chain::from(words.get(at + 1)?.as_str()))
            })
            .filter(|target| user_chains.contains(target) && !reached.contains(target))
            .collect();
        if more.is_empty() {
            break;
        }
        reached.extend(more);
    }
    let sorted = |words: &[&str]| {
        let mut words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        words.sort();
        words
    };
    let out = [
        sorted(&["-i", bridge, "-j", "ACCEPT"]),
        sorted(&["-i", bridge, "!", "-o", bridge, "-j", "ACCEPT"]),
    ];
    let back = sorted(&[
        "-o",
        bridge,
        "-m",
        "conntrack",
        "--ctstate",
        "RELATED,ESTABLISHED",
        "-j",
        "ACCEPT",
    ]);
    let has = |shapes: &[Vec<String>]| {
        rules
            .iter()
            .filter(|(chain, _)| reached.contains(chain))
            .any(|(_, words)| {
                let mut words = words.clone();
                words.sort();
                shapes.contains(&words)
            })
    };
    has(&out) && has(std::slice::from_ref(&back))
}

/// What the daemon's own rules do for the cluster's bridge and sources.
pub(crate) fn daemon_rules(save: &str, bridge: &str, sources: &[Ipv6Net]) -> DaemonRules {
    DaemonRules {
        masqueraded: daemon_masqueraded(save, sources),
        forwards: daemon_forwards(save, bridge),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Nft,
    Legacy,
}

impl Backend {
    pub(crate) fn ip6tables(self) -> &'static str {
        match self {
            Backend::Nft => "ip6tables-nft",
            Backend::Legacy => "ip6tables-legacy",
        }
    }
    pub(crate) fn ip6tables_save(self) -> &'static str {
        match self {
            Backend::Nft => "ip6tables-nft-save",
            Backend::Legacy => "ip6tables-legacy-save",
        }
    }
}

/// The backend the host's own tools use: the one holding more rules (as Kubernetes'
/// iptables-wrapper decides); nft when neither holds any.
pub(crate) fn choose_backend(legacy_saves: &str, nft_saves: &str) -> Backend {
    let count = |s: &str| s.lines().filter(|l| l.starts_with("-A ")).count();
    if count(legacy_saves) > count(nft_saves) {
        Backend::Legacy
    } else {
        Backend::Nft
    }
}

#[cfg(test)]
mod tests;
