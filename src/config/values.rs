//! The values of settings that are more than a number or a CIDR: the IP mode, the NAT64
//! translator and IPv4 prefix, the Kubernetes version, and the defaults read outside the
//! settings table.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The IP families of a cluster's management network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum IpMode {
    Ipv4,
    Ipv6,
    DualStack,
}

impl FromStr for IpMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ipv4" => Ok(IpMode::Ipv4),
            "ipv6" => Ok(IpMode::Ipv6),
            "dual-stack" | "dual" => Ok(IpMode::DualStack),
            other => Err(format!(
                "'{other}' is not an IP mode; use ipv6, ipv4 or dual-stack"
            )),
        }
    }
}

impl fmt::Display for IpMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpMode::Ipv4 => "ipv4",
            IpMode::Ipv6 => "ipv6",
            IpMode::DualStack => "dual-stack",
        })
    }
}

/// The translator the NAT64 container runs. A new cluster gets dind-nat64 unless told
/// otherwise (the settings table's fallback); `Default` is what a record written before
/// there was a choice ran: tayga.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nat64Engine {
    /// tayga, Debian's package.
    #[default]
    Tayga,
    /// dind's own translator (dind's executable, uploaded into the container).
    DindNat64,
}

impl Nat64Engine {
    pub(crate) const NAMES: &'static str = "tayga or dind-nat64";
}

impl FromStr for Nat64Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tayga" => Ok(Nat64Engine::Tayga),
            "dind-nat64" => Ok(Nat64Engine::DindNat64),
            other => Err(format!(
                "'{other}' is not a NAT64 engine; use {}",
                Nat64Engine::NAMES
            )),
        }
    }
}

impl fmt::Display for Nat64Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Nat64Engine::Tayga => "tayga",
            Nat64Engine::DindNat64 => "dind-nat64",
        })
    }
}

/// The first two octets of the IPv4 /16 that NAT64 maps IPv6 clients into, before the cluster
/// id is added to the second one (k-d-c's `NAT64_V4_SUBNET_PREFIX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct V4Prefix16(pub u8, pub u8);

impl FromStr for V4Prefix16 {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not two decimal octets like 172.18");
        let (a, b) = s.split_once('.').ok_or_else(bad)?;
        Ok(V4Prefix16(
            a.parse().map_err(|_| bad())?,
            b.parse().map_err(|_| bad())?,
        ))
    }
}

impl TryFrom<String> for V4Prefix16 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<V4Prefix16> for String {
    fn from(p: V4Prefix16) -> String {
        p.to_string()
    }
}

impl fmt::Display for V4Prefix16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// A Kubernetes version: a minor (`v1.36`: the newest patch of it) or an exact patch release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KubeVersion {
    pub(crate) minor: u32,
    pub(crate) patch: Option<u32>,
}

impl KubeVersion {
    /// The oldest minor dind's kubeadm configuration supports (kubeadm v1beta3).
    pub(crate) const OLDEST_MINOR: u32 = 30;

    /// kubeadm's configuration API: v1beta4 from Kubernetes 1.31 on.
    pub(crate) fn kubeadm_api(self) -> &'static str {
        if self.minor >= 31 {
            "kubeadm.k8s.io/v1beta4"
        } else {
            "kubeadm.k8s.io/v1beta3"
        }
    }

    /// `v1.36`, the path component of the pkgs.k8s.io repository.
    pub(crate) fn minor_tag(self) -> String {
        format!("v1.{}", self.minor)
    }
}

impl Default for KubeVersion {
    fn default() -> Self {
        defaults::KUBERNETES_VERSION
            .parse()
            .expect("the default version parses")
    }
}

impl FromStr for KubeVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a Kubernetes version like v1.36 or v1.36.4");
        let digits = s.trim().strip_prefix('v').unwrap_or(s.trim());
        let parts: Vec<&str> = digits.split('.').collect();
        let number = |p: &str| -> Result<u32, String> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let (minor, patch) = match parts[..] {
            ["1", minor] => (number(minor)?, None),
            ["1", minor, patch] => (number(minor)?, Some(number(patch)?)),
            _ => return Err(bad()),
        };
        Ok(KubeVersion { minor, patch })
    }
}

impl TryFrom<String> for KubeVersion {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<KubeVersion> for String {
    fn from(v: KubeVersion) -> String {
        v.to_string()
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(patch) => write!(f, "v1.{}.{patch}", self.minor),
            None => write!(f, "v1.{}", self.minor),
        }
    }
}

/// Defaults read outside the settings table too (the table has every setting's own).
pub(crate) mod defaults {
    pub(crate) const DNS64_PREFIX: &str = "fd00:10:64:ff9b::/96";
    pub(crate) const KUBERNETES_VERSION: &str = "v1.36";
    /// What `up --wait` looks up through CoreDNS when the config names no probes: a site
    /// without AAAA records, so in an ipv6 cluster the answer must come from DNS64.
    pub(crate) const WAIT_LOOKUP: &str = "github.com";
}

#[cfg(test)]
mod tests;
