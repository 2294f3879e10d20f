//! Judgements of the Docker host's facts that `up` and `doctor` share: pure functions, so the
//! two commands cannot disagree about a host.

use crate::config::{Config, IpMode};

/// Whether direct IPv6 egress can work, for what `--allow-aaaa` does in an IPv6-only cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectIpv6 {
    /// Not asked for, or the host routes IPv6 out.
    Fine,
    /// The user named the egress interface: go on, but say what was seen.
    Warn(String),
    /// Refuse before anything is created.
    Refuse(String),
}

/// With `--allow-aaaa` in ipv6 mode, DNS64 hands out real AAAA records, so nodes and pods try
/// IPv6 for every dual-stack site, container registries among them. A Docker host without an
/// IPv6 default route (every GitHub-hosted runner) cannot carry that traffic: image pulls
/// and `kubeadm init` fail. Dual-stack nodes fall back to IPv4 and are not judged here.
pub fn direct_ipv6(config: &Config, host_has_ipv6_default_route: bool) -> DirectIpv6 {
    if !config.allow_aaaa || config.ip_mode != IpMode::Ipv6 || host_has_ipv6_default_route {
        return DirectIpv6::Fine;
    }
    match &config.egress_interface {
        Some(egress) => DirectIpv6::Warn(format!(
            "the Docker host has no IPv6 default route; with --allow-aaaa, pods reach IPv6 sites \
             only if {egress} (--egress-interface) routes IPv6 to them"
        )),
        None => DirectIpv6::Refuse(
            "--allow-aaaa in an ipv6 cluster needs an IPv6 default route on the Docker host, and it \
             has none: nodes would get real AAAA records for sites (container registries among \
             them) they cannot reach, and image pulls and kubeadm init would fail; drop \
             --allow-aaaa (every site then goes through NAT64), use --ip-mode dual-stack, or name \
             an interface that routes IPv6 with --egress-interface"
                .to_string(),
        ),
    }
}

/// True when `ip -6 route show` output has a default route (on any interface).
pub fn has_default_route(routes: &str) -> bool {
    routes
        .lines()
        .any(|line| line.split_whitespace().next() == Some("default"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{validate, Layer, Origin, Sourced};

    fn config(mode: &str, allow_aaaa: bool, egress: Option<&str>) -> Config {
        let flag = |name: &'static str, value: &str| Some(Sourced::new(value, Origin::Flag(name)));
        validate(Layer {
            ip_mode: flag("--ip-mode", mode),
            allow_aaaa: allow_aaaa.then(|| flag("--allow-aaaa", "true")).flatten(),
            egress_interface: egress.and_then(|e| flag("--egress-interface", e)),
            ..Layer::default()
        })
        .expect("valid")
    }

    #[derive(Debug, PartialEq)]
    enum Expect {
        Fine,
        Warn,
        Refuse,
    }

    #[test]
    fn allow_aaaa_without_an_ipv6_route_is_refused_unless_the_egress_is_named() {
        use Expect::*;
        // (ip mode, --allow-aaaa, --egress-interface, host has an IPv6 default route, verdict)
        let table = [
            ("ipv6", true, None, false, Refuse),
            ("ipv6", true, Some("eth1"), false, Warn),
            ("ipv6", true, None, true, Fine),
            ("ipv6", true, Some("eth1"), true, Fine),
            ("ipv6", false, None, false, Fine),
            ("ipv6", false, Some("eth1"), false, Fine),
            // Dual-stack always uses real AAAA records, but its nodes fall back to IPv4.
            ("dual-stack", false, None, false, Fine),
            ("ipv4", false, None, false, Fine),
        ];
        for (mode, allow, egress, route, expected) in table {
            let verdict = direct_ipv6(&config(mode, allow, egress), route);
            let got = match &verdict {
                DirectIpv6::Fine => Fine,
                DirectIpv6::Warn(text) => {
                    assert!(text.contains(egress.unwrap()), "{text}");
                    Warn
                }
                DirectIpv6::Refuse(text) => {
                    for fix in ["drop --allow-aaaa", "dual-stack", "--egress-interface"] {
                        assert!(text.contains(fix), "{text}");
                    }
                    Refuse
                }
            };
            assert_eq!(got, expected, "{mode} {allow} {egress:?} {route}");
        }
    }

    #[test]
    fn a_default_route_is_found_on_any_interface() {
        assert!(has_default_route(
            "fd00:ee::/64 dev veth proto kernel metric 256\n\
             default via fe80::1 dev eth0 proto ra metric 1024 expires 1790sec pref medium\n"
        ));
        assert!(has_default_route("default dev wg0 metric 1024\n"));
        assert!(!has_default_route(
            "fd00:20::/64 dev br-dind0 proto kernel metric 256\nfe80::/64 dev eth0 proto kernel\n"
        ));
        assert!(!has_default_route(""));
    }
}
