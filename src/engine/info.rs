//! What the daemon says about itself in `docker info` that dind's judgement needs: its
//! cgroup version, its firewall backend and whether its userland proxy runs. The reading is
//! a pure function of the answer, so every daemon shape is a unit test.

use super::docker::Engine;
use anyhow::{Context, Result};
use bollard::models::{SystemInfo, SystemInfoCgroupVersionEnum};
use serde::Serialize;

/// The daemon's own account of itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonInfo {
    /// 1 or 2; None when the daemon does not say.
    pub(crate) cgroup_version: Option<u8>,
    /// `FirewallBackend.Driver`: "iptables", "nftables", with "+firewalld" when firewalld
    /// runs. None: the daemon does not say (API before 1.49, i.e. before Docker 28.2).
    pub(crate) firewall_backend: Option<String>,
    /// Whether the daemon runs its userland proxy (docker-proxy) for published ports.
    /// Docker 29.5 and later list `EnableUserlandProxy` in `FirewallBackend.Info` exactly
    /// when it is on. None: the daemon does not say (older daemons).
    pub(crate) userland_proxy: Option<bool>,
}

impl DaemonInfo {
    /// Docker's nftables firewall backend: its rules are in nft tables of their own
    /// (`ip6 docker-bridges`), which `ip6tables-save` does not show.
    pub(crate) fn nftables(&self) -> bool {
        self.firewall_backend
            .as_deref()
            .is_some_and(|b| b.starts_with("nftables"))
    }
}

/// The (major, minor) of a daemon version such as "29.8.1" or "28.5.2+dfsg4"; None when it
/// does not start with two numbers.
pub(crate) fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// What `info` says, for a daemon of `server_version`.
pub(crate) fn read_info(info: &SystemInfo, server_version: &str) -> DaemonInfo {
    let cgroup_version = match info.cgroup_version {
        Some(SystemInfoCgroupVersionEnum::_1) => Some(1),
        Some(SystemInfoCgroupVersionEnum::_2) => Some(2),
        _ => None,
    };
    let firewall = info.firewall_backend.as_ref();
    let firewall_backend = firewall
        .and_then(|f| f.driver.clone())
        .filter(|d| !d.is_empty());
    let listed = firewall
        .and_then(|f| f.info.as_ref())
        .and_then(|pairs| {
            pairs
                .iter()
                .find(|pair| pair.first().map(String::as_str) == Some("EnableUserlandProxy"))
        })
        .map(|pair| pair.get(1).map(String::as_str) == Some("true"));
    let says_proxy = firewall.is_some() && major_minor(server_version) >= Some((29, 5));
    let userland_proxy = match listed {
        Some(on) => Some(on),
        None if says_proxy => Some(false),
        None => None,
    };
    DaemonInfo {
        cgroup_version,
        firewall_backend,
        userland_proxy,
    }
}

impl Engine {
    /// The daemon's `docker info`, read by [`read_info`].
    pub(crate) async fn daemon_info(&self) -> Result<DaemonInfo> {
        let info = self
            .api()
            .info()
            .await
            .context("cannot ask the Docker daemon for its info")?;
        Ok(read_info(&info, &self.server_version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(json: &str) -> SystemInfo {
        serde_json::from_str(json).expect("a docker info shape")
    }

    /// The parts of `docker info` that matter here, as each engine answered them in
    /// `.ci/engine-smoke` (2026-12-05).
    #[test]
    fn each_engines_info_reads_as_it_should() {
        let cases: &[(&str, &str, &str, DaemonInfo)] = &[
            (
                "Debian 12's 20.10.24: no firewall field at all",
                "20.10.24+dfsg1",
                r#"{"ServerVersion": "20.10.24+dfsg1", "CgroupVersion": "1"}"#,
                DaemonInfo {
                    cgroup_version: Some(1),
                    firewall_backend: None,
                    userland_proxy: None,
                },
            ),
            (
                "Debian sid's 28.5.2: the backend, nothing about the proxy",
                "28.5.2+dfsg4",
                r#"{"CgroupVersion": "2", "FirewallBackend": {"Driver": "iptables"}}"#,
                DaemonInfo {
                    cgroup_version: Some(2),
                    firewall_backend: Some("iptables".into()),
                    userland_proxy: None,
                },
            ),
            (
                "29.8.1 with its proxy",
                "29.8.1",
                r#"{"CgroupVersion": "1", "FirewallBackend": {"Driver": "iptables",
                    "Info": [["EnableUserlandProxy", "true"],
                             ["UserlandProxyPath", "/usr/libexec/docker/docker-proxy"]]}}"#,
                DaemonInfo {
                    cgroup_version: Some(1),
                    firewall_backend: Some("iptables".into()),
                    userland_proxy: Some(true),
                },
            ),
            (
                "29.8.1, firewall-backend nftables, userland-proxy false",
                "29.8.1",
                r#"{"FirewallBackend": {"Driver": "nftables"}}"#,
                DaemonInfo {
                    cgroup_version: None,
                    firewall_backend: Some("nftables".into()),
                    userland_proxy: Some(false),
                },
            ),
            (
                "29.4, which does not list the proxy yet",
                "29.4.1",
                r#"{"FirewallBackend": {"Driver": "iptables+firewalld",
                    "Info": [["ReloadedAt", "2026-01-01T00:00:00Z"]]}}"#,
                DaemonInfo {
                    cgroup_version: None,
                    firewall_backend: Some("iptables+firewalld".into()),
                    userland_proxy: None,
                },
            ),
        ];
        for (what, version, json, expected) in cases {
            assert_eq!(&read_info(&info(json), version), expected, "{what}");
        }
    }

    #[test]
    fn only_the_nftables_backend_hides_dockers_rules_from_ip6tables_save() {
        let backend = |b: Option<&str>| DaemonInfo {
            firewall_backend: b.map(String::from),
            ..DaemonInfo::default()
        };
        assert!(backend(Some("nftables")).nftables());
        assert!(backend(Some("nftables+firewalld")).nftables());
        assert!(!backend(Some("iptables")).nftables());
        assert!(!backend(None).nftables());
    }

    #[test]
    fn versions_read_with_their_distribution_suffixes() {
        assert_eq!(major_minor("28.5.2+dfsg4"), Some((28, 5)));
        assert_eq!(major_minor("20.10.24+dfsg1"), Some((20, 10)));
        assert_eq!(major_minor("29.8.1"), Some((29, 8)));
        assert_eq!(major_minor("29.5.0-rc.1"), Some((29, 5)));
        assert_eq!(major_minor("library-import"), None);
        assert_eq!(major_minor("29"), None);
    }
}
