//! The config file: every key, YAML's scalar types, and its refusals.

use crate::config::tests::*;
use crate::config::{IpMode, Layer, Origin, Sourced, V4Prefix16};
use crate::test_support::valid;

// ---------------------------------------------------------------- config file

#[test]
fn file_with_every_key() {
    let text = format!(
        "{HEADER}clusterId: 3\nipMode: dual-stack\nnodes: 1\nallowAAAA: true\n\
         dns64Prefix: 2001:db8:64::/96\nnat64V4Prefix: \"10.10\"\nupstreamDNS: 1.1.1.1\n\
         egressInterface: eth1\nkubernetes: false\n\
         mgmtCIDRs:\n  - 10.193.0.0/24\n  - fd00:21::/64\n\
         podCIDRs: 10.245.0.0/16, fd00:41::/72\nserviceCIDR: fd00:31::/110\n\
         nodeImage: example/node:v2\nprobes: [example.com, ipv4.example.net]\n\
         kubernetesVersion: v1.34\nfeatureGates:\n  B: false\n  A: true\n\
         kubeadmConfigPatches:\n- \"kind: KubeletConfiguration\\nmaxPods: 10\\n\"\n"
    );
    let layer = file_layer(&text);
    let at = |value: &str, key: &'static str| {
        Some(Sourced::new(
            value,
            Origin::File {
                path: "c.yaml".into(),
                key,
            },
        ))
    };
    pretty_assertions::assert_eq!(
        layer,
        Layer {
            cluster_id: at("3", "clusterId"),
            ip_mode: at("dual-stack", "ipMode"),
            nodes: at("1", "nodes").map(|s| vec![s]),
            allow_aaaa: at("true", "allowAAAA"),
            dns64_prefix: at("2001:db8:64::/96", "dns64Prefix"),
            nat64_v4_prefix: at("10.10", "nat64V4Prefix"),
            upstream_dns: at("1.1.1.1", "upstreamDNS"),
            egress_interface: at("eth1", "egressInterface"),
            kubernetes: at("false", "kubernetes"),
            mgmt_cidrs: at("10.193.0.0/24,fd00:21::/64", "mgmtCIDRs"),
            pod_cidrs: at("10.245.0.0/16, fd00:41::/72", "podCIDRs"),
            service_cidrs: at("fd00:31::/110", "serviceCIDR"),
            node_image: at("example/node:v2", "nodeImage"),
            probes: at("example.com,ipv4.example.net", "probes"),
            kubernetes_version: at("v1.34", "kubernetesVersion"),
            feature_gates: at("A=true,B=false", "featureGates"),
            kubeadm_config_patches: Some(vec![Sourced::new(
                "kind: KubeletConfiguration\nmaxPods: 10\n",
                Origin::File {
                    path: "c.yaml".into(),
                    key: "kubeadmConfigPatches"
                }
            )]),
            ..Layer::default()
        }
    );
    let config = valid(layer);
    assert_eq!(config.probes, ["example.com", "ipv4.example.net"]);
    assert_eq!(config.kubernetes_version.to_string(), "v1.34");
    assert_eq!(
        config.feature_gates.into_iter().collect::<Vec<_>>(),
        [("A".to_string(), true), ("B".to_string(), false)]
    );
    assert_eq!(config.kubeadm_config_patches.len(), 1);
    assert_eq!(config.cluster_id, 3);
    assert_eq!(config.ip_mode, IpMode::DualStack);
    assert_eq!(config.nat64_v4_prefix, V4Prefix16(10, 10));
    assert_eq!(config.mgmt_cidrs, nets(&["10.193.0.0/24", "fd00:21::/64"]));
    assert_eq!(config.pod_cidrs, nets(&["10.245.0.0/16", "fd00:41::/72"]));
    assert!(!config.kubernetes);
}

#[test]
fn file_with_only_the_header_sets_nothing() {
    assert_eq!(file_layer(HEADER), Layer::default());
}

#[test]
fn file_list_and_comma_forms_of_cidrs_agree() {
    let forms = [
        "mgmtCIDRs: [10.193.0.0/24, fd00:21::/64]\n",
        "mgmtCIDRs:\n- 10.193.0.0/24\n- fd00:21::/64\n",
        "mgmtCIDRs: 10.193.0.0/24,fd00:21::/64\n",
        "mgmtCIDRs: \"10.193.0.0/24 fd00:21::/64\"\n",
        "mgmtCIDRs: [fd00:21::/64, 10.193.0.0/24]\n",
    ];
    for form in forms {
        let layer = file_layer(&format!("{HEADER}ipMode: dual-stack\n{form}"));
        let config = valid(layer);
        assert_eq!(
            config.mgmt_cidrs,
            nets(&["10.193.0.0/24", "fd00:21::/64"]),
            "{form}"
        );
    }
    let single = file_layer(&format!("{HEADER}podCIDRs: [fd00:41::/72]\n"));
    assert_eq!(valid(single).pod_cidrs, nets(&["fd00:41::/72"]));
}

#[test]
fn file_scalars_of_any_yaml_type_become_text() {
    let layer = file_layer(&format!(
        "{HEADER}clusterId: \"4\"\nnodes: 0\nallowAAAA: \"yes\"\nkubernetes: true\n"
    ));
    let key = |k: &'static str| Origin::File {
        path: "c.yaml".into(),
        key: k,
    };
    assert_eq!(layer.cluster_id, Some(Sourced::new("4", key("clusterId"))));
    assert_eq!(layer.nodes, Some(vec![Sourced::new("0", key("nodes"))]));
    assert_eq!(
        layer.allow_aaaa,
        Some(Sourced::new("yes", key("allowAAAA")))
    );
    assert_eq!(
        layer.kubernetes,
        Some(Sourced::new("true", key("kubernetes")))
    );
    let config = valid(layer);
    assert_eq!(
        (config.cluster_id, config.nodes.workers(), config.allow_aaaa),
        (4, 0, true)
    );
}

#[test]
fn file_quoted_nat64_prefix_keeps_its_trailing_zero() {
    let layer = file_layer(&format!("{HEADER}nat64V4Prefix: \"10.10\"\n"));
    assert_eq!(layer.nat64_v4_prefix.unwrap().value, "10.10");
}

#[test]
fn file_refusals() {
    // (file text after or instead of the header, fragments the chain must contain)
    let cases: &[(&str, &[&str])] = &[
        (
            "apiVersion: dind.k8s.io/v1\nkind: Cluster\n",
            &[
                "config file c.yaml",
                "apiVersion 'dind.k8s.io/v1' is not supported",
                "use 'apiVersion: dind.k8s.io/v1alpha1'",
            ],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Config\n",
            &[
                "config file c.yaml",
                "kind 'Config' is not supported",
                "use 'kind: Cluster'",
            ],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnumNodes: 3\n",
            &[
                "config file c.yaml is not a valid dind cluster config",
                "unknown field `numNodes`",
            ],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnat64V4Prefix: 172.18\n",
            &[
                "config file c.yaml",
                "nat64V4Prefix: 172.18 is read as a YAML number",
                "quote it, e.g. nat64V4Prefix: \"172.18\"",
            ],
        ),
        (
            // 10.10 would silently become 10.1 if the float were accepted.
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnat64V4Prefix: 10.10\n",
            &["nat64V4Prefix: 10.1 is read as a YAML number", "quote it"],
        ),
        (
            "kind: Cluster\n",
            &[
                "config file c.yaml is not a valid dind cluster config",
                "missing field `apiVersion`",
            ],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\n",
            &["not a valid dind cluster config", "missing field `kind`"],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nmgmtCIDRs: {a: b}\n",
            &["config file c.yaml: line 3: mgmtCIDRs: expected a string or a list of strings, got a mapping"],
        ),
        (
            "- just\n- a list\n",
            &["config file c.yaml is not a valid dind cluster config"],
        ),
    ];
    for &(text, fragments) in cases {
        let message = file_error("c.yaml", text);
        for fragment in fragments {
            assert!(
                message.contains(fragment),
                "{text:?}: {message:?} lacks {fragment:?}"
            );
        }
    }
}

#[test]
fn file_float_error_for_a_numeric_key_does_not_suggest_a_nat64_prefix() {
    let message = file_error("c.yaml", &format!("{HEADER}nodes: 2.5\n"));
    assert!(message.contains("nodes"), "{message}");
    assert!(!message.contains("172.18"), "{message}");
}

#[test]
fn file_type_errors_name_the_key_the_line_and_what_was_expected() {
    let cases: &[(&str, &str)] = &[
        (
            "nodes: [1, 2]\n",
            "config file c.yaml: line 3: nodes: expected a worker count or a list of nodes \
             (kind's `- role: worker`), got a list of numbers",
        ),
        (
            "nodes:\n  role: worker\n",
            "config file c.yaml: line 3: nodes: expected a worker count or a list of nodes \
             (kind's `- role: worker`), got a mapping",
        ),
        (
            "\n# a comment\nclusterId: [3]\n",
            "config file c.yaml: line 5: clusterId: expected a number, a string or a boolean, \
             got a list of numbers",
        ),
        (
            "ipMode:\n  - ipv6\n",
            "config file c.yaml: line 3: ipMode: expected a string, got a list of strings",
        ),
        (
            "kubeadmConfigPatches: {kind: InitConfiguration}\n",
            "config file c.yaml: line 3: kubeadmConfigPatches: expected a list of YAML \
             documents, each a string (`- |` blocks), got a mapping",
        ),
        (
            "featureGates: [A]\n",
            "config file c.yaml: line 3: featureGates: expected a mapping of gate names to true \
             or false, or Name=true,... text, got a list of strings",
        ),
        (
            "nodes: 2.5\n",
            "config file c.yaml: line 3: nodes: 2.5 is not a whole number",
        ),
    ];
    for &(body, expected) in cases {
        assert_eq!(file_error("c.yaml", &format!("{HEADER}{body}")), expected);
    }
}

#[test]
fn file_problems_are_all_reported_at_once() {
    let text = format!("{HEADER}numNodes: 3\nnodes: [1, 2]\nipMode: [ipv6]\nfoo: bar\n");
    let message = file_error("c.yaml", &text);
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 4, "{message}");
    // In the file's order.
    assert!(
        lines[0].contains("line 3: unknown field `numNodes`"),
        "{message}"
    );
    assert!(lines[1].starts_with("config file c.yaml: line 4: nodes: expected a worker count"));
    assert!(lines[2].starts_with("config file c.yaml: line 5: ipMode: expected a string"));
    assert!(
        lines[3].contains("line 6: unknown field `foo`"),
        "{message}"
    );
    // What the file did give is still read, so its refusals can be reported with them.
    let (layer, problems) =
        crate::config::read_file("c.yaml", &format!("{HEADER}foo: 1\nclusterId: 300\n")).unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(layer.cluster_id.unwrap().value, "300");
}
