//! Kubernetes helpers: the join command kubeadm prints, CoreDNS's Corefile, and the
//! readiness judgements of `kubectl get ... -o json` and `dig +short` output.
//!
//! Fixtures live in tests/golden/kube/: `Corefile.kubeadm` is kubeadm's default Corefile as
//! rendered from its CoreDNS ConfigMap template (input only), `*.json` are `kubectl get -o json`
//! lists (input only); `Corefile.dns64` is a golden output.

use crate::kube::corefile::forward_to;
use crate::kube::join::{parse_join_command, JoinParseError};
use crate::kube::readiness::{judge_lookup, not_ready, wait_lookup_query};
use crate::plan::plan;
use crate::render::kubeadm::JoinCommand;
use crate::test_support::assert_golden;
use crate::test_support::config_from_env;
use ipnet::Ipv6Net;
use pretty_assertions::assert_eq;
use serde_json::Value;
use std::net::IpAddr;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/kube")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------- join command

const HASH: &str = "sha256:5b8b3c4e1f0a9d2e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d";
const HASH2: &str = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const TOKEN: &str = "abcdef.0123456789abcdef";

fn join_err(output: &str) -> JoinParseError {
    match parse_join_command(output) {
        Ok(cmd) => panic!("expected {output:?} to be refused, got {cmd:?}"),
        Err(e) => e,
    }
}

/// The error text for `kubeadm join <args>` alone on a line.
fn join_err_text(args: &str) -> String {
    join_err(&format!("kubeadm join {args}\n")).to_string()
}

#[test]
fn join_command_after_klog_warnings_with_trailing_space() {
    let output = format!(
        "W1126 07:00:00.123456    1234 version.go:104] could not fetch a Kubernetes version from \
         the internet: unable to get URL \"https://dl.k8s.io/release/stable-1.txt\": Get \
         \"https://dl.k8s.io/release/stable-1.txt\": dial tcp: lookup dl.k8s.io: no such host\n\
         W1126 07:00:00.123789    1234 version.go:105] falling back to the local client version: v1.32.0\n\
         I1126 07:00:00.200000    1234 join.go:42] the kubeadm join command says: kubeadm join nothing\n\
         kubeadm join [fd00:20::2]:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH} \n"
    );
    assert_eq!(
        parse_join_command(&output).unwrap(),
        JoinCommand {
            api_server_endpoint: "[fd00:20::2]:6443".to_string(),
            token: TOKEN.to_string(),
            ca_cert_hashes: strings(&[HASH]),
        }
    );
}

#[test]
fn join_command_alone_without_newline_with_ipv4_or_dns_endpoint() {
    for endpoint in [
        "172.18.0.2:6443",
        "kube-master:6443",
        "api.cluster.example.:443",
    ] {
        let cmd = parse_join_command(&format!(
            "kubeadm join {endpoint} --token {TOKEN} --discovery-token-ca-cert-hash {HASH}"
        ))
        .unwrap();
        assert_eq!(cmd.api_server_endpoint, endpoint);
        assert_eq!(cmd.token, TOKEN);
        assert_eq!(cmd.ca_cert_hashes, strings(&[HASH]));
    }
}

#[test]
fn join_command_tolerates_control_plane_flags_and_keeps_every_hash() {
    let output = format!(
        "kubeadm join [fd00:20::2]:6443 --token={TOKEN} --discovery-token-ca-cert-hash {HASH} \
         --control-plane --certificate-key 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
         --discovery-token-ca-cert-hash={HASH2} --discovery-token-ca-cert-hash {HASH}\r\n"
    );
    assert_eq!(
        parse_join_command(&output).unwrap(),
        JoinCommand {
            api_server_endpoint: "[fd00:20::2]:6443".to_string(),
            token: TOKEN.to_string(),
            ca_cert_hashes: strings(&[HASH, HASH2]),
        }
    );
}

#[test]
fn join_command_continued_with_backslashes_as_kubeadm_init_prints_it() {
    let output = format!(
        "Then you can join any number of worker nodes by running the following on each as root:\n\n\
         kubeadm join [fd00:20::2]:6443 --token {TOKEN} \\\n\
         \t--discovery-token-ca-cert-hash {HASH} \n"
    );
    let cmd = parse_join_command(&output).unwrap();
    assert_eq!(cmd.api_server_endpoint, "[fd00:20::2]:6443");
    assert_eq!(cmd.ca_cert_hashes, strings(&[HASH]));
}

#[test]
fn join_command_the_last_join_line_counts() {
    let output = format!(
        "kubeadm join [fd00:20::2]:6443 --token aaaaaa.aaaaaaaaaaaaaaaa --discovery-token-ca-cert-hash {HASH2}\n\
         kubeadm join [fd00:20::3]:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH}\n"
    );
    let cmd = parse_join_command(&output).unwrap();
    assert_eq!(cmd.api_server_endpoint, "[fd00:20::3]:6443");
    assert_eq!(cmd.token, TOKEN);
}

#[test]
fn join_without_a_join_line_quotes_the_last_ten_lines() {
    let output: String = (1..=15)
        .map(|i| format!("  W1126 07:00:{i:02}.000000    1234 token.go:9] line {i}  \n\n"))
        .collect();
    let err = join_err(&output);
    let tail: Vec<String> = (6..=15)
        .map(|i| format!("W1126 07:00:{i:02}.000000    1234 token.go:9] line {i}"))
        .collect();
    assert_eq!(
        err,
        JoinParseError::NoJoinLine {
            tail: tail.join("\n")
        }
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "no `kubeadm join` line in the output of `kubeadm token create --print-join-command`; \
             it ended with:\nW1126 07:00:06.000000"
        ),
        "{text}"
    );
    assert!(!text.contains("line 5\n"), "{text}");
    assert!(text.ends_with("] line 15"), "{text}");
}

#[test]
fn join_without_any_output() {
    assert_eq!(
        join_err(" \n").to_string(),
        "no `kubeadm join` line in the output of `kubeadm token create --print-join-command`; \
         it ended with:\n(no output)"
    );
    // A line merely mentioning the command is not the command.
    assert!(matches!(
        join_err("error: failed to run kubeadm join: timeout\n"),
        JoinParseError::NoJoinLine { .. }
    ));
}

#[test]
fn join_missing_endpoint_token_or_hash() {
    assert_eq!(
        join_err_text(&format!(
            "--token {TOKEN} --discovery-token-ca-cert-hash {HASH}"
        )),
        format!(
            "the join command has no API server endpoint: \
             `kubeadm join --token {TOKEN} --discovery-token-ca-cert-hash {HASH}`"
        )
    );
    assert_eq!(
        join_err_text(&format!(
            "[fd00:20::2]:6443 --discovery-token-ca-cert-hash {HASH}"
        )),
        format!(
            "the join command has no --token: \
             `kubeadm join [fd00:20::2]:6443 --discovery-token-ca-cert-hash {HASH}`"
        )
    );
    assert_eq!(
        join_err_text(&format!("[fd00:20::2]:6443 --token {TOKEN}")),
        format!(
            "the join command has no --discovery-token-ca-cert-hash: \
             `kubeadm join [fd00:20::2]:6443 --token {TOKEN}`"
        )
    );
}

#[test]
fn join_bad_endpoints_are_quoted_with_the_reason() {
    let cases = [
        (
            "fd00:20::2:6443",
            "an IPv6 address must be written in brackets, `[addr]:port`",
        ),
        (
            "[fd00:20::2]:https",
            "port `https` is not a number from 1 to 65535",
        ),
        ("[fd00:20::2]:0", "port `0` is not a number from 1 to 65535"),
        (
            "[fd00:20::2]:+6443",
            "port `+6443` is not a number from 1 to 65535",
        ),
        (
            "172.18.0.2:70000",
            "port `70000` is not a number from 1 to 65535",
        ),
        ("[fd00:20::zz]:6443", "`fd00:20::zz` is not an IPv6 address"),
        ("[fd00:20::2]6443", "no `:port` after the bracketed address"),
        ("[fd00:20::2:6443", "no `]` closing the IPv6 address"),
        ("kube-master", "no `:port`"),
        (
            "https//kube_master:6443",
            "`https//kube_master` is neither an IP address nor a DNS name",
        ),
    ];
    for (endpoint, reason) in cases {
        assert_eq!(
            join_err_text(&format!(
                "{endpoint} --token {TOKEN} --discovery-token-ca-cert-hash {HASH}"
            )),
            format!("bad API server endpoint `{endpoint}` in the join command: {reason}"),
            "endpoint {endpoint}"
        );
    }
}

#[test]
fn join_bad_tokens_are_quoted() {
    for token in [
        "ABCDEF.0123456789abcdef",
        "abcde.0123456789abcdef",
        "abcdef.0123456789abcdef0",
        "abcdef0123456789abcdef",
        "abcdef:0123456789abcdef",
        "abcdef.0123456789abcde_",
    ] {
        assert_eq!(
            join_err_text(&format!(
                "[fd00:20::2]:6443 --token {token} --discovery-token-ca-cert-hash {HASH}"
            )),
            format!(
                "bad bootstrap token `{token}` in the join command: \
                 expected [a-z0-9]{{6}}.[a-z0-9]{{16}}"
            )
        );
    }
}

#[test]
fn join_bad_hashes_are_quoted() {
    let upper = HASH.to_uppercase().replace("SHA256:", "sha256:");
    let short = &HASH[..HASH.len() - 1];
    let md5 = "md5:0123456789abcdef0123456789abcdef".to_string();
    for hash in [upper.as_str(), short, md5.as_str(), "sha256:"] {
        assert_eq!(
            join_err_text(&format!(
                "[fd00:20::2]:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH} \
                 --discovery-token-ca-cert-hash {hash}"
            )),
            format!(
                "bad --discovery-token-ca-cert-hash `{hash}` in the join command: \
                 expected sha256: and 64 lowercase hex digits"
            )
        );
    }
}

#[test]
fn join_unknown_flag_is_named() {
    let line = format!(
        "kubeadm join [fd00:20::2]:6443 --token {TOKEN} --discovery-token-unsafe-skip-ca-verification"
    );
    assert_eq!(
        join_err(&line),
        JoinParseError::UnknownFlag {
            flag: "--discovery-token-unsafe-skip-ca-verification".to_string(),
            line: line.clone(),
        }
    );
    assert_eq!(
        join_err(&line).to_string(),
        format!(
            "unknown flag `--discovery-token-unsafe-skip-ca-verification` in the join command: `{line}`"
        )
    );
    assert_eq!(
        join_err_text(&format!(
            "[fd00:20::2]:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH} --node-name=kube-node-1"
        )),
        format!(
            "unknown flag `--node-name` in the join command: `kubeadm join [fd00:20::2]:6443 \
             --token {TOKEN} --discovery-token-ca-cert-hash {HASH} --node-name=kube-node-1`"
        )
    );
}

#[test]
fn join_flag_without_value_repeated_token_and_extra_argument() {
    let line =
        format!("kubeadm join [fd00:20::2]:6443 --discovery-token-ca-cert-hash {HASH} --token");
    assert_eq!(
        join_err(&line).to_string(),
        format!("flag `--token` has no value in the join command: `{line}`")
    );
    let line =
        format!("kubeadm join [fd00:20::2]:6443 --token --discovery-token-ca-cert-hash {HASH}");
    assert_eq!(
        join_err(&line),
        JoinParseError::MissingValue {
            flag: "--token".to_string(),
            line: line.clone()
        }
    );
    assert_eq!(
        join_err_text(&format!(
            "[fd00:20::2]:6443 --token {TOKEN} --certificate-key= --discovery-token-ca-cert-hash {HASH}"
        )),
        format!(
            "flag `--certificate-key` has no value in the join command: `kubeadm join \
             [fd00:20::2]:6443 --token {TOKEN} --certificate-key= --discovery-token-ca-cert-hash {HASH}`"
        )
    );
    assert_eq!(
        join_err_text(&format!(
            "[fd00:20::2]:6443 --token {TOKEN} --token zzzzzz.zzzzzzzzzzzzzzzz \
             --discovery-token-ca-cert-hash {HASH}"
        )),
        format!("the join command gives --token twice: `{TOKEN}` and `zzzzzz.zzzzzzzzzzzzzzzz`")
    );
    assert_eq!(
        join_err_text(&format!(
            "[fd00:20::2]:6443 --token {TOKEN} [fd00:20::3]:6443 --discovery-token-ca-cert-hash {HASH}"
        )),
        "unexpected argument `[fd00:20::3]:6443` in the join command (the endpoint is \
         `[fd00:20::2]:6443`)"
    );
}

// ---------------------------------------------------------------- Corefile

const DNS64: &str = "fd00:20::100";

#[test]
fn golden_corefile_forwarding_to_dns64() {
    let out = forward_to(&fixture("Corefile.kubeadm"), &[ip(DNS64)]).unwrap();
    assert_golden("kube/Corefile.dns64", &out);
}

#[test]
fn corefile_only_the_forward_line_changes() {
    let before = fixture("Corefile.kubeadm");
    let after = forward_to(&before, &[ip(DNS64)]).unwrap();
    let before: Vec<&str> = before.split('\n').collect();
    let after: Vec<&str> = after.split('\n').collect();
    assert_eq!(before.len(), after.len());
    let changed: Vec<(&str, &str)> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(b, a)| (*b, *a))
        .collect();
    assert_eq!(
        changed,
        vec![(
            "    forward . /etc/resolv.conf {",
            "    forward . [fd00:20::100]:53 {"
        )]
    );
}

#[test]
fn corefile_forwarding_is_idempotent() {
    let once = forward_to(&fixture("Corefile.kubeadm"), &[ip(DNS64)]).unwrap();
    let twice = forward_to(&once, &[ip(DNS64)]).unwrap();
    assert_eq!(once, twice);
    // And a different upstream replaces the previous one rather than adding to it.
    let other = forward_to(&once, &[ip("fd00:21::100")]).unwrap();
    assert!(
        other.contains("    forward . [fd00:21::100]:53 {\n"),
        "{other}"
    );
    assert!(!other.contains("fd00:20::100"), "{other}");
}

#[test]
fn corefile_several_upstreams_ipv6_in_brackets_ipv4_bare() {
    let out = forward_to(
        &fixture("Corefile.kubeadm"),
        &[ip(DNS64), ip("192.0.2.53"), ip("::ffff:192.0.2.54")],
    )
    .unwrap();
    assert!(
        out.contains(
            "    forward . [fd00:20::100]:53 192.0.2.53:53 [::ffff:192.0.2.54]:53 {\n       max_concurrent 1000\n    }\n"
        ),
        "{out}"
    );
}

#[test]
fn corefile_other_server_blocks_keep_their_forward() {
    let corefile = "\
example.org:53 { forward . 1.2.3.4 }
.:53 {
    errors
    # forward . 9.9.9.9 (a comment, not a directive)
    template IN A blocked.test {
        rcode NXDOMAIN
    }
    forward . 8.8.8.8 1.1.1.1   # upstreams of the host
    cache 30
}
internal.test:53 {
    forward . 10.0.0.53 {
        max_concurrent 10
    }
}
";
    let expected = "\
example.org:53 { forward . 1.2.3.4 }
.:53 {
    errors
    # forward . 9.9.9.9 (a comment, not a directive)
    template IN A blocked.test {
        rcode NXDOMAIN
    }
    forward . [fd00:20::100]:53   # upstreams of the host
    cache 30
}
internal.test:53 {
    forward . 10.0.0.53 {
        max_concurrent 10
    }
}
";
    assert_eq!(forward_to(corefile, &[ip(DNS64)]).unwrap(), expected);
}

#[test]
fn corefile_root_block_spellings() {
    for (corefile, expected) in [
        (". {\n  forward . /etc/resolv.conf\n}\n", ". {\n  forward . [fd00:20::100]:53\n}\n"),
        (
            "dns://.:53 {\n\tforward . /etc/resolv.conf\n}",
            "dns://.:53 {\n\tforward . [fd00:20::100]:53\n}",
        ),
        (".:53{\nforward .\n}\n", ".:53{\nforward . [fd00:20::100]:53\n}\n"),
        (
            "example.org:53 .:53 {\r\n    forward . 1.2.3.4 {\r\n        policy sequential\r\n    }\r\n}\r\n",
            "example.org:53 .:53 {\r\n    forward . [fd00:20::100]:53 {\r\n        policy sequential\r\n    }\r\n}\r\n",
        ),
        (
            ".:53 { forward . 1.2.3.4 }\n",
            ".:53 { forward . [fd00:20::100]:53 }\n",
        ),
    ] {
        assert_eq!(forward_to(corefile, &[ip(DNS64)]).unwrap(), expected, "{corefile:?}");
    }
}

fn corefile_err(corefile: &str, upstreams: &[IpAddr]) -> String {
    match forward_to(corefile, upstreams) {
        Ok(out) => panic!("expected {corefile:?} to be refused, got {out:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn corefile_errors() {
    let kubeadm = fixture("Corefile.kubeadm");
    assert_eq!(
        corefile_err(&kubeadm, &[]),
        "no upstream DNS server to forward the root zone to"
    );
    assert_eq!(
        corefile_err(
            "example.org:53 {\n    forward . 1.2.3.4\n}\n.:5353 {\n    forward . 1.2.3.4\n}\n",
            &[ip(DNS64)]
        ),
        "the Corefile has no server block for the root zone (`.:53 {`)"
    );
    assert_eq!(
        corefile_err(
            ".:53 {\n    errors\n    # forward . /etc/resolv.conf\n    forward example.org 1.2.3.4\n}\nexample.org:53 { forward . 1.2.3.4 }\n",
            &[ip(DNS64)]
        ),
        "the root zone's server block (`.:53 {`) has no `forward .` directive"
    );
    assert_eq!(
        corefile_err(
            ".:53 {\n    forward . 1.2.3.4\n    forward . 5.6.7.8\n}\n",
            &[ip(DNS64)]
        ),
        "the root zone's server block (`.:53 {`) has 2 `forward .` directives, expected one"
    );
    assert_eq!(
        corefile_err(&format!("{kubeadm}{kubeadm}"), &[ip(DNS64)]),
        "the Corefile has 2 server blocks for the root zone (`.:53 {`), expected one"
    );
    assert_eq!(
        corefile_err(kubeadm.trim_end().trim_end_matches('}'), &[ip(DNS64)]),
        "unbalanced braces in the Corefile: 1 block(s) not closed"
    );
    assert_eq!(
        corefile_err(&format!("{kubeadm}}}\n"), &[ip(DNS64)]),
        "unbalanced braces in the Corefile: `}` on line 24 closes nothing"
    );
}

// ---------------------------------------------------------------- readiness

fn both_nodes() -> Vec<String> {
    strings(&["kube-master", "kube-node-1"])
}

const EMPTY_LIST: &str = r#"{
    "apiVersion": "v1",
    "items": [],
    "kind": "List",
    "metadata": {
        "resourceVersion": ""
    }
}
"#;

/// The pod list `pods-starting.json` reduced to the pods with these names.
fn starting_pods(names: &[&str]) -> String {
    let mut list: Value = serde_json::from_str(&fixture("pods-starting.json")).unwrap();
    let items = list["items"].as_array_mut().unwrap();
    items.retain(|p| names.contains(&p["metadata"]["name"].as_str().unwrap()));
    assert_eq!(items.len(), names.len(), "fixture pods {names:?}");
    list.to_string()
}

#[test]
fn readiness_all_ready() {
    assert_eq!(
        not_ready(
            &both_nodes(),
            &fixture("nodes-ready.json"),
            &fixture("pods-ready.json")
        )
        .unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn readiness_node_missing() {
    let expected = strings(&["kube-master", "kube-node-1", "kube-node-2"]);
    assert_eq!(
        not_ready(
            &expected,
            &fixture("nodes-ready.json"),
            &fixture("pods-ready.json")
        )
        .unwrap(),
        strings(&["node kube-node-2: not registered"])
    );
    assert_eq!(
        not_ready(&both_nodes(), EMPTY_LIST, &fixture("pods-ready.json")).unwrap(),
        strings(&[
            "node kube-master: not registered",
            "node kube-node-1: not registered"
        ])
    );
}

#[test]
fn readiness_node_not_ready_with_reason_and_message() {
    assert_eq!(
        not_ready(
            &both_nodes(),
            &fixture("nodes-master-notready.json"),
            &fixture("pods-ready.json")
        )
        .unwrap(),
        strings(&[
            "node kube-master: NotReady (KubeletNotReady: container runtime network not ready: \
             NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns \
             error: cni plugin not initialized)",
            "node kube-node-1: not registered",
        ])
    );
}

#[test]
fn readiness_node_unknown_or_without_ready_condition() {
    let nodes = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "kube-master"},
         "status": {"conditions": [{"type": "Ready", "status": "Unknown",
            "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."}]}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "kube-node-1"}}
    ]}"#;
    assert_eq!(
        not_ready(&both_nodes(), nodes, &fixture("pods-ready.json")).unwrap(),
        strings(&[
            "node kube-master: NotReady (NodeStatusUnknown: Kubelet stopped posting node status.)",
            "node kube-node-1: no Ready condition yet",
        ])
    );
}

#[test]
fn readiness_pods_starting() {
    assert_eq!(
        not_ready(&both_nodes(), &fixture("nodes-ready.json"), &fixture("pods-starting.json")).unwrap(),
        strings(&[
            "pod kube-system/coredns-668d6bf9bc-4xkqz: Pending (Unschedulable: 0/1 nodes are \
             available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. \
             preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.)",
            "pod kube-system/coredns-668d6bf9bc-h7l2m: Pending, container coredns waiting (ContainerCreating)",
            "pod kube-system/kube-proxy-7sdfx: Running, container kube-proxy not ready",
            "pod kube-system/kube-proxy-q9wzt: Running, container kube-proxy not ready (CrashLoopBackOff)",
            "pod kube-system/kube-scheduler-kube-master: Failed (Evicted: The node was low on \
             resource: ephemeral-storage.)",
        ])
    );
}

#[test]
fn readiness_pod_pending_alone() {
    let pods = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "coredns-abc", "namespace": "kube-system"},
         "status": {"phase": "Pending", "qosClass": "Burstable"}}
    ]}"#;
    assert_eq!(
        not_ready(&both_nodes(), &fixture("nodes-ready.json"), pods).unwrap(),
        strings(&["pod kube-system/coredns-abc: Pending"])
    );
}

#[test]
fn readiness_pod_running_with_one_unready_container() {
    let pods = starting_pods(&["etcd-kube-master", "kube-proxy-7sdfx"]);
    assert_eq!(
        not_ready(&both_nodes(), &fixture("nodes-ready.json"), &pods).unwrap(),
        strings(&["pod kube-system/kube-proxy-7sdfx: Running, container kube-proxy not ready"])
    );
}

#[test]
fn readiness_succeeded_pod_is_ready_though_its_container_is_not() {
    let pods = starting_pods(&["dind-dns-probe-x2k8j", "etcd-kube-master"]);
    let list: Value = serde_json::from_str(&pods).unwrap();
    let probe = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["name"] == "dind-dns-probe-x2k8j")
        .unwrap();
    assert_eq!(probe["status"]["phase"], "Succeeded");
    assert_eq!(
        probe["status"]["containerStatuses"][0]["ready"],
        Value::Bool(false),
        "the fixture's completed container is unready"
    );
    assert_eq!(
        not_ready(&both_nodes(), &fixture("nodes-ready.json"), &pods).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn readiness_empty_pod_list() {
    assert_eq!(
        not_ready(&both_nodes(), &fixture("nodes-ready.json"), EMPTY_LIST).unwrap(),
        strings(&["no kube-system pods yet"])
    );
}

#[test]
fn readiness_malformed_json_is_an_error() {
    let nodes = fixture("nodes-ready.json");
    let pods = fixture("pods-ready.json");
    let err = not_ready(&both_nodes(), &nodes[..nodes.len() / 2], &pods).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot parse the output of `kubectl get nodes -o json`"
    );
    assert!(format!("{err:#}").contains("EOF while parsing"), "{err:#}");

    let err = not_ready(
        &both_nodes(),
        &nodes,
        "The connection to the server [fd00:20::2]:6443 was refused - did you specify the right host or port?",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot parse the output of `kubectl get pods -n kube-system -o json`"
    );

    // A single object is not a list.
    let one_pod: Value = serde_json::from_str(&pods).unwrap();
    let err = not_ready(&both_nodes(), &nodes, &one_pod["items"][0].to_string()).unwrap_err();
    assert!(
        format!("{err:#}").contains("missing field `items`"),
        "{err:#}"
    );
}

// ---------------------------------------------------------------- dig +short

fn prefix() -> Option<Ipv6Net> {
    Some("64:ff9b::/96".parse().unwrap())
}

#[test]
fn lookup_synthesized_aaaa_through_dns64() {
    assert_eq!(
        judge_lookup("64:ff9b::8efa:4a6e\n", prefix()),
        Ok(vec![ip("64:ff9b::8efa:4a6e")])
    );
    // CNAMEs first, then the addresses; a retried query that then succeeded.
    let out = ";; communications error to fd00:20::100#53: timed out\n\
               github.com.\n\
               64:ff9b::8c52:7904\n\
               2001:db8::1\n";
    assert_eq!(
        judge_lookup(out, prefix()),
        Ok(vec![ip("64:ff9b::8c52:7904"), ip("2001:db8::1")])
    );
}

#[test]
fn lookup_a_records_without_prefix() {
    assert_eq!(
        judge_lookup("www.example.com.\n93.184.215.14\n93.184.215.15\n", None),
        Ok(vec![ip("93.184.215.14"), ip("93.184.215.15")])
    );
    assert_eq!(
        judge_lookup("2001:db8::1\n", None),
        Ok(vec![ip("2001:db8::1")])
    );
}

#[test]
fn lookup_failures() {
    assert_eq!(
        judge_lookup("", prefix()),
        Err("empty answer (no records)".to_string())
    );
    assert_eq!(
        judge_lookup("\n  \n", None),
        Err("empty answer (no records)".to_string())
    );
    assert_eq!(
        judge_lookup(
            "www.example.com.\nwww.example.com-v4.edgesuite.net.\n",
            prefix()
        ),
        Err(
            "only CNAME records (www.example.com., www.example.com-v4.edgesuite.net.), no address"
                .to_string()
        )
    );
    assert_eq!(
        judge_lookup(
            ";; connection timed out; no servers could be reached\n",
            prefix()
        ),
        Err("no address; dig said: connection timed out; no servers could be reached".to_string())
    );
    assert_eq!(
        judge_lookup("2606:50c0:8000::153\n2606:50c0:8001::153\n", prefix()),
        Err(
            "no address in the DNS64 prefix 64:ff9b::/96 (the answer did not come through \
             DNS64): 2606:50c0:8000::153, 2606:50c0:8001::153"
                .to_string()
        )
    );
    assert_eq!(
        judge_lookup("140.82.121.4\n", prefix()),
        Err(
            "no address in the DNS64 prefix 64:ff9b::/96 (the answer did not come through \
             DNS64): 140.82.121.4"
                .to_string()
        )
    );
}

// ------------------------------------------------------------ the wait's lookup

#[test]
fn the_wait_asks_aaaa_through_dns64_and_a_where_there_is_none() {
    let ipv6 = wait_lookup_query(&plan(&config_from_env(&[])));
    assert_eq!(ipv6.record_type, "AAAA");
    assert_eq!(
        ipv6.synthesized_under,
        Some("fd00:10:64:ff9b::/96".parse().unwrap())
    );

    // Real AAAA records may pass: any address will do.
    let allow = wait_lookup_query(&plan(&config_from_env(&[("DIND_ALLOW_AAAA_USE", "true")])));
    assert_eq!(allow.record_type, "AAAA");
    assert_eq!(allow.synthesized_under, None);

    // Dual-stack has no DNS64: the default name (github.com) has no AAAA record at all.
    for mode in ["dual-stack", "ipv4"] {
        let query = wait_lookup_query(&plan(&config_from_env(&[("IP_MODE", mode)])));
        assert_eq!(query.record_type, "A", "{mode}");
        assert_eq!(query.synthesized_under, None, "{mode}");
    }
}

#[test]
fn a_resumed_up_initializes_again_unless_the_api_server_answers() {
    use crate::kube::readiness::{init_step, InitStep};
    assert_eq!(init_step(false, false), InitStep::Init);
    // admin.conf is written before the control plane is up.
    assert_eq!(init_step(true, false), InitStep::ResetThenInit);
    assert_eq!(init_step(true, true), InitStep::Skip);
}
