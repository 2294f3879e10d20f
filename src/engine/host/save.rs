//! What the Docker host's `iptables-save` / `ip6tables-save` print, read back: the rules a
//! cluster tagged, the sources the daemon already masquerades, and which backend (nft or
//! legacy) the host's own tools use. Pure functions of the text the host printed.

use crate::render::host_rules::Ip6Rule;
use ipnet::Ipv6Net;

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
