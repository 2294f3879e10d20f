//! What the Docker host's `iptables-save` / `ip6tables-save` print, read back: the rules a
//! cluster tagged, the sources the daemon already masquerades, and which backend (nft or
//! legacy) the host's own tools use. Pure functions of the text the host printed.

use crate::labels::ForwardPolicy;
use crate::render::host_rules::{DaemonRules, Ip6Rule};
use ipnet::Ipv6Net;
use std::collections::BTreeSet;

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
pub(crate) fn tagged_rules(save: &str, tag: &str) -> Vec<Ip6Rule> {
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
pub(crate) fn daemon_masquerades(save: &str, source: &Ipv6Net) -> bool {
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
    let mut table = "";
    for line in save.lines() {
        if let Some(name) = line.strip_prefix('*') {
            table = name.trim();
        } else if table == "filter" {
            if let Some(rest) = line.strip_prefix(":FORWARD ") {
                return rest.split_whitespace().next()?.parse().ok();
            }
        }
    }
    None
}

/// The user chains `save` declares in `table` (`:NAME - [0:0]`).
fn chains(save: &str, table: &str) -> Vec<String> {
    let mut current = "";
    let mut found = Vec::new();
    for line in save.lines() {
        if let Some(name) = line.strip_prefix('*') {
            current = name.trim();
        } else if current == table {
            if let Some(rest) = line.strip_prefix(':') {
                let mut words = rest.split_whitespace();
                if let (Some(name), Some("-")) = (words.next(), words.next()) {
                    found.push(name.to_string());
                }
            }
        }
    }
    found
}

/// The daemon's own chains in the filter table (DOCKER, DOCKER-USER, DOCKER-FORWARD...):
/// Docker writes them into ip6tables when its IPv6 firewall support is on, the default from
/// Docker 27. Docker 20.10 writes none.
pub(crate) fn docker_chains(save: &str) -> Vec<String> {
    chains(save, "filter")
        .into_iter()
        .filter(|c| c == "DOCKER" || c.starts_with("DOCKER-"))
        .collect()
}

/// True when the daemon's rules accept what leaves `bridge` and the replies coming back, in
/// chains that FORWARD reaches: Docker 28 and later (`DOCKER-FORWARD -i br -j ACCEPT`,
/// `DOCKER-CT -o br ... RELATED,ESTABLISHED -j ACCEPT`), and 27's rules in FORWARD itself
/// (`-i br ! -o br -j ACCEPT`). dind's own rules do not count.
pub(crate) fn daemon_forwards(save: &str, bridge: &str) -> bool {
    let rules: Vec<(String, Vec<String>)> = save_rules(save)
        .filter(|(table, _)| table == "filter")
        .filter_map(|(_, mut words)| {
            if words.is_empty() || comment_of(&words).is_some_and(|c| c.starts_with("dind:")) {
                return None;
            }
            let chain = words.remove(0);
            Some((chain, words))
        })
        .collect();
    let user_chains: BTreeSet<String> = chains(save, "filter").into_iter().collect();
    let mut reached = BTreeSet::from(["FORWARD".to_string()]);
    loop {
        let more: Vec<String> = rules
            .iter()
            .filter(|(chain, _)| reached.contains(chain))
            .filter_map(|(_, words)| {
                let at = words.iter().position(|w| w == "-j" || w == "-g")?;
                words.get(at + 1).cloned()
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
