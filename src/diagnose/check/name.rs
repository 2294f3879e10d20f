//! One name, checked from the probe pod: its AAAA answer seen by the pod, the node and the
//! resolver the cluster forwards to, what the AAAA policy makes of it, a TCP connection,
//! and the path taken.

use super::expectation::{
    self, classify, expectation, parse_dig, Expected, HostView, Lookup, ViewSource,
};
use super::pod::{tcp_connect_argv, ProbePod};
use super::report::{Check, CheckId, NameResult, Path};
use super::run::{exec_failed, Host, Run};
use crate::config::{Config, IpMode};
use crate::plan::{ClusterPlan, NodePlan};
use anyhow::Result;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(super) const DIG: [&str; 4] = ["dig", "+short", "+time=2", "+tries=2"];

/// DNS64 reaches its upstream through NAT64 (`--upstream-dns` in ipv6 mode): no name
/// resolves while tayga is down.
pub(super) fn dns_crosses_nat64(plan: &ClusterPlan) -> bool {
    plan.dns64
        .as_ref()
        .is_some_and(|d| matches!(d.forwarder, IpAddr::V6(f) if d.prefix.contains(&f)))
}

/// What a name check needs besides the name.
pub(super) struct Probe<'a> {
    pub(super) run: &'a Run<'a>,
    pub(super) host: Host<'a>,
    pub(super) pod: &'a ProbePod<'a>,
    pub(super) node: &'a NodePlan,
}

impl Probe<'_> {
    pub(super) async fn check(&self, name: &str) -> Check {
        let (plan, config) = (self.run.plan, &self.run.record.config);
        let port = self.run.options.port;
        match self.observe(name).await {
            Ok((result, view)) => judge_name(plan, config, (name, port), result, &view),
            Err(err) => exec_failed(
                CheckId::Reach,
                &format!("{name}:{port}"),
                &self.node.container,
                &err,
                plan.cluster_id,
            ),
        }
    }

    /// Resolves `name` from the pod, its node and the host, and connects from the pod.
    async fn observe(&self, name: &str) -> Result<(NameResult, HostView)> {
        let (engine, plan, config) = (self.run.engine, self.run.plan, &self.run.record.config);
        let aaaa = [&DIG[..], &[name, "AAAA"]].concat();
        let pod_aaaa: Vec<Ipv6Addr> = parse_dig(&self.pod.run(&aaaa).await?.stdout);
        let node_aaaa: Vec<Ipv6Addr> =
            parse_dig(&engine.exec(&self.node.container, &aaaa).await?.stdout);
        let source = ViewSource::choose(self.run.options.host_resolver, config.upstream_dns);
        let view = host_view(self.host, source, name).await;
        let (host_aaaa, host_a) = (view.aaaa(), view.a());
        let prefix = plan.dns64.as_ref().map(|d| d.prefix.net());
        let expected = expectation(config.ip_mode, config.allow_aaaa, &view);
        let got = classify(&pod_aaaa, prefix, &host_aaaa);

        let mut address = pod_aaaa.first().copied().map(IpAddr::V6);
        if address.is_none() && config.ip_mode != IpMode::Ipv6 {
            // Dual-stack and ipv4 clusters reach IPv4-only names over IPv4.
            let a = [&DIG[..], &[name, "A"]].concat();
            let pod_a: Vec<Ipv4Addr> = parse_dig(&self.pod.run(&a).await?.stdout);
            address = pod_a.first().or(host_a.first()).copied().map(IpAddr::V4);
        }
        let tcp_connected = match address {
            Some(address) => {
                let argv = tcp_connect_argv(address, self.run.options.port);
                let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
                self.pod.run(&argv).await?.success()
            }
            None => false,
        };
        let via_nat64 =
            matches!(address, Some(IpAddr::V6(a)) if prefix.is_some_and(|p| p.contains(&a)));
        let nat64_mapping = match (&plan.nat64, via_nat64) {
            (Some(nat64), true) => {
                let node_v6 = self.node.addresses.iter().find_map(|a| match a {
                    IpAddr::V6(a) => Some(*a),
                    IpAddr::V4(_) => None,
                });
                let log = engine.log_tail(&nat64.container, 5000).await;
                node_v6.and_then(|a| tayga_mapping(&log, a))
            }
            _ => None,
        };
        let result = NameResult {
            synthesized: got == Expected::Synthesized,
            matches_policy: (expected != Expected::Unknown).then_some(got == expected),
            pod_aaaa,
            node_aaaa,
            host_aaaa,
            host_a,
            expected,
            tcp_connected,
            path: address.map(|_| if via_nat64 { Path::Nat64 } else { Path::Direct }),
            nat64_mapping,
        };
        Ok((result, view))
    }
}

/// What the resolver the cluster forwards to says about `name`, asked from the Docker host
/// through the helper (host networking), never the host's own resolver in its place.
async fn host_view(host: Host<'_>, source: Option<ViewSource>, name: &str) -> HostView {
    let Some(source) = source else {
        return HostView::Unavailable(expectation::NO_VIEW_SOURCE.into());
    };
    let host = match host {
        Ok(host) => host,
        Err(error) => return HostView::Unavailable(error.to_string()),
    };
    HostView::Seen {
        source,
        aaaa: lookup(host, source, name, "AAAA").await,
        a: lookup(host, source, name, "A").await,
    }
}

async fn lookup<T: std::str::FromStr>(
    host: &crate::engine::host::HostNet,
    source: ViewSource,
    name: &str,
    record_type: &str,
) -> Lookup<T> {
    let argv = expectation::lookup_argv(source.address(), name, record_type);
    match host.run(&argv).await {
        Ok(out) => expectation::parse_lookup(&format!("{}{}", out.stdout, out.stderr), record_type),
        Err(err) => Lookup::Unanswered(format!("{err:#}")),
    }
}

/// tayga logs "assigned new pool address 172.18.0.130 (fd00:20::3)"; the pool address
/// given to `client`, if any.
pub(super) fn tayga_mapping(log: &str, client: Ipv6Addr) -> Option<Ipv4Addr> {
    log.lines().rev().find_map(|line| {
        let (_, after) = line.split_once(" pool address ")?;
        let (v4, rest) = after.split_once(' ')?;
        let v6: Ipv6Addr = rest
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .parse()
            .ok()?;
        (v6 == client).then(|| v4.parse().ok()).flatten()
    })
}

/// Whether a name check passed, what it saw, and where to look when it did not. An unknown
/// expectation is no failure: the answer is only judged by whether it connects.
fn judge_name(
    plan: &ClusterPlan,
    config: &Config,
    (name, port): (&str, u16),
    result: NameResult,
    view: &HostView,
) -> Check {
    let detail = name_detail(&result, view);
    let hint = name_hint(plan, config, name, &result, view);
    Check {
        ok: name_passed(&result),
        hint,
        name: Some(result),
        ..Check::ok(CheckId::Reach, &format!("{name}:{port}"), detail)
    }
}

/// Addresses, comma-separated, or "none".
fn shown(addresses: &[Ipv6Addr]) -> String {
    if addresses.is_empty() {
        "none".to_string()
    } else {
        addresses
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What the pod and the host saw, whether that is what the policy wants, and the TCP try.
fn name_detail(r: &NameResult, view: &HostView) -> String {
    let seen = match (view, view.gap()) {
        (HostView::Seen { source, .. }, None) => format!("{source} sees {}", shown(&r.host_aaaa)),
        (_, gap) => format!("no view: {}", gap.unwrap_or_default()),
    };
    format!(
        "pod AAAA {} ({seen}), {}, TCP {}{}",
        shown(&r.pod_aaaa),
        match r.matches_policy {
            Some(true) => "as the AAAA policy says".to_string(),
            _ => format!("expected {}", r.expected),
        },
        if r.tcp_connected {
            "connected"
        } else {
            "failed"
        },
        r.path.map(|p| format!(" via {p}")).unwrap_or_default()
    )
}

/// Where to look: the first problem the result shows, the lookup before the connection.
fn name_hint(
    plan: &ClusterPlan,
    config: &Config,
    name: &str,
    r: &NameResult,
    view: &HostView,
) -> Option<String> {
    let id = plan.cluster_id;
    let via_nat64 = r.path == Some(Path::Nat64);
    if r.expected == Expected::NoAnswer && r.pod_aaaa.is_empty() {
        Some(if config.allow_aaaa {
            format!("{name} has neither A nor AAAA records the cluster can use")
        } else {
            format!("{name} has no A record to synthesize from; with --allow-aaaa its AAAA would be used")
        })
    } else if r.path.is_none() {
        Some(no_answer_hint(plan, config))
    } else if r.matches_policy == Some(false) {
        Some(format!(
            "the pod's answer is not what the policy ({}) wants ({}) from what {} answers: check bind9's dns64 exclude clause (`dind export logs`)",
            if config.allow_aaaa { "--allow-aaaa" } else { "synthesize all" },
            r.expected,
            match view {
                HostView::Seen { source, .. } => source.to_string(),
                HostView::Unavailable(_) => "nobody".to_string(),
            }
        ))
    } else if !r.tcp_connected && via_nat64 {
        Some(format!(
            "through NAT64: is {} running, does the host route {} exist, does the host masquerade IPv4? \
             `dind up --cluster-id {id}` repairs the first two",
            plan.nat64.as_ref().map(|n| n.engine.to_string()).unwrap_or_default(),
            plan.nat64.as_ref().map(|n| n.pool.to_string()).unwrap_or_default()
        ))
    } else if !r.tcp_connected {
        Some(format!(
            "direct: check the host rules tagged {} (FORWARD, MASQUERADE out of {}) and the egress interface's IPv6 route",
            plan.host.rule_tag,
            config.egress_interface.as_deref().unwrap_or("?")
        ))
    } else if r.expected == Expected::Unknown {
        Some("to judge the answer too, give --host-resolver: a resolver with the cluster's view of the name".into())
    } else {
        None
    }
}

/// The pod's lookup got no answer: DNS64 and its upstream are to check.
fn no_answer_hint(plan: &ClusterPlan, config: &Config) -> String {
    format!(
        "the pod got no answer: check DNS64 ({}) and its upstream resolver ({}), `docker logs {}`",
        plan.dns64
            .as_ref()
            .map(|d| d.address.to_string())
            .unwrap_or_default(),
        match config.upstream_dns {
            Some(ip) => format!("--upstream-dns {ip}"),
            None => "the Docker host's, through Docker's embedded DNS".to_string(),
        },
        plan.dns64
            .as_ref()
            .map(|d| d.container.as_str())
            .unwrap_or("bind9")
    )
}

fn name_passed(r: &NameResult) -> bool {
    match r.matches_policy {
        None => r.path.is_none() || r.tcp_connected,
        Some(matches) => matches && (r.expected == Expected::NoAnswer || r.tcp_connected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan;

    #[test]
    fn tayga_mappings_are_found_for_one_client() {
        let log = "starting\nassigned new pool address 172.18.0.130 (fd00:20::3)\n\
                   assigned new pool address 172.18.0.131 (fd00:20::4)\n";
        let node3: Ipv6Addr = "fd00:20::3".parse().unwrap();
        let node5: Ipv6Addr = "fd00:20::5".parse().unwrap();
        assert_eq!(
            tayga_mapping(log, node3),
            Some(Ipv4Addr::new(172, 18, 0, 130))
        );
        assert_eq!(tayga_mapping(log, node5), None);
    }

    fn cluster(allow_aaaa: bool) -> (ClusterPlan, Config) {
        let layer = crate::config::Layer {
            allow_aaaa: Some(crate::config::Sourced::new(
                if allow_aaaa { "true" } else { "false" },
                crate::config::Origin::Default,
            )),
            egress_interface: Some(crate::config::Sourced::new(
                "eth0",
                crate::config::Origin::Default,
            )),
            upstream_dns: Some(crate::config::Sourced::new(
                "198.18.0.10",
                crate::config::Origin::Default,
            )),
            ..Default::default()
        };
        let config = crate::config::validate(layer).unwrap();
        (plan::plan(&config), config)
    }

    fn upstream_view() -> HostView {
        HostView::Seen {
            source: ViewSource::Upstream(Ipv4Addr::new(198, 18, 0, 10)),
            aaaa: Lookup::Answered(vec!["fd00:ee::10".parse().unwrap()]),
            a: Lookup::Answered(vec![Ipv4Addr::new(198, 18, 0, 10)]),
        }
    }

    fn seen(pod: &str, path: Option<Path>, tcp: bool, expected: Expected) -> NameResult {
        let pod_aaaa: Vec<Ipv6Addr> = parse_dig(pod);
        let prefix: ipnet::Ipv6Net = "fd00:10:64:ff9b::/96".parse().unwrap();
        let host_aaaa = vec!["fd00:ee::10".parse().unwrap()];
        let got = classify(&pod_aaaa, Some(prefix), &host_aaaa);
        NameResult {
            node_aaaa: pod_aaaa.clone(),
            synthesized: got == Expected::Synthesized,
            matches_policy: (expected != Expected::Unknown).then_some(got == expected),
            pod_aaaa,
            host_aaaa,
            host_a: vec![Ipv4Addr::new(198, 18, 0, 10)],
            expected,
            tcp_connected: tcp,
            path,
            nat64_mapping: None,
        }
    }

    const SYNTH: &str = "fd00:10:64:ff9b::c612:a";

    #[test]
    fn name_checks_point_at_the_failing_part() {
        let (plan, config) = cluster(true);
        let view = upstream_view();
        let judge = |r| judge_name(&plan, &config, ("dual.example.test", 80), r, &view);
        let good = judge(seen(
            "fd00:ee::10",
            Some(Path::Direct),
            true,
            Expected::RealAaaa,
        ));
        assert!(good.ok && good.hint.is_none(), "{good:?}");
        assert_eq!(
            good.detail,
            "pod AAAA fd00:ee::10 (upstream 198.18.0.10 sees fd00:ee::10), as the AAAA policy says, TCP connected via direct"
        );
        let direct = judge(seen(
            "fd00:ee::10",
            Some(Path::Direct),
            false,
            Expected::RealAaaa,
        ));
        assert!(!direct.ok);
        assert!(direct
            .hint
            .unwrap()
            .contains("host rules tagged dind:cluster=0 (FORWARD, MASQUERADE out of eth0)"));
        let nat64 = judge(seen(SYNTH, Some(Path::Nat64), false, Expected::Synthesized));
        assert!(nat64.hint.unwrap().contains("host route 172.18.0.128/25"));
        let silent = judge(seen("", None, false, Expected::RealAaaa));
        assert!(!silent.ok);
        assert!(silent
            .hint
            .unwrap()
            .contains("the pod got no answer: check DNS64 (fd00:20::100)"));
        let wrong = judge(seen(SYNTH, Some(Path::Nat64), true, Expected::RealAaaa));
        assert!(!wrong.ok);
        assert!(
            wrong.detail.contains("expected real-aaaa"),
            "{}",
            wrong.detail
        );
        let hint = wrong.hint.unwrap();
        assert!(hint.contains("dns64 exclude clause"), "{hint}");
        assert!(
            hint.contains("from what upstream 198.18.0.10 answers"),
            "{hint}"
        );
    }

    #[test]
    fn an_unknown_expectation_is_shown_and_is_no_failure() {
        let (plan, config) = cluster(false);
        let silent = HostView::Seen {
            source: ViewSource::Given("198.18.0.99".parse().unwrap()),
            aaaa: Lookup::Unanswered("no servers could be reached".into()),
            a: Lookup::Unanswered("no servers could be reached".into()),
        };
        let judge =
            |r, view: &HostView| judge_name(&plan, &config, ("v4only.example.test", 80), r, view);
        let connected = judge(
            seen(SYNTH, Some(Path::Nat64), true, Expected::Unknown),
            &silent,
        );
        assert!(connected.ok, "{connected:?}");
        assert_eq!(
            connected.detail,
            "pod AAAA fd00:10:64:ff9b::c612:a (no view: --host-resolver 198.18.0.99 AAAA: \
             no servers could be reached), expected unknown, TCP connected via nat64"
        );
        let json = serde_json::to_value(&connected).unwrap();
        assert_eq!(json["name"]["expected"], "unknown");
        assert_eq!(json["name"]["matchesPolicy"], serde_json::Value::Null);
        assert!(connected.hint.unwrap().contains("--host-resolver"));

        let nobody = HostView::Unavailable(expectation::NO_VIEW_SOURCE.into());
        let unanswered = judge(seen("", None, false, Expected::Unknown), &nobody);
        assert!(
            unanswered.ok,
            "nothing says an answer was due: {unanswered:?}"
        );
        assert!(unanswered
            .detail
            .contains("no --upstream-dns recorded and no --host-resolver"));

        // An address that does not connect still fails, whatever was expected.
        let refused = judge(
            seen(SYNTH, Some(Path::Nat64), false, Expected::Unknown),
            &silent,
        );
        assert!(!refused.ok);
        assert!(refused.hint.unwrap().contains("through NAT64"));
    }

    #[test]
    fn dns_crosses_nat64_only_with_an_upstream_in_ipv6_mode() {
        let (with_upstream, _) = cluster(false);
        assert!(dns_crosses_nat64(&with_upstream));
        let config = crate::test_support::valid(crate::config::Layer::default());
        assert!(!dns_crosses_nat64(&plan::plan(&config)));
    }
}
