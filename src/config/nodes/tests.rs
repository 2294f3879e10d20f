//! kind's node list in the config file: its entries, their fields and every refusal with
//! the field's path and line.

use crate::config::tests::*;
use crate::config::{validate, Config, Layer, Nodes};
use crate::test_support::{env_layer, flag, valid};

// ---------------------------------------------------------------- kind's node list

/// A kind-style `nodes:` section after the header; `{dir}` is an existing directory.
fn kind_nodes(body: &str) -> String {
    let dir = std::env::temp_dir();
    format!(
        "{HEADER}{}",
        body.replace("{dir}", dir.to_str().expect("a UTF-8 temp dir"))
    )
}

fn nodes_refusals(text: &str) -> Vec<(String, String, String)> {
    let layer = file_layer(text);
    match validate(layer) {
        Ok(config) => panic!("expected a refusal, got {:?}", config.nodes),
        Err(err) => err
            .refusals()
            .iter()
            .map(|r| (r.setting.clone(), r.value.clone(), err_line(r)))
            .collect(),
    }
}

fn err_line(refusal: &crate::config::Refusal) -> String {
    refusal.to_string()
}

#[test]
fn file_nodes_list_in_kinds_shape() {
    let text = kind_nodes(
        "nodes:\n\
         - role: worker\n\
         \x20 labels:\n\
         \x20   tier: frontend\n\
         - role: control-plane\n\
         \x20 extraPortMappings:\n\
         \x20 - containerPort: 80\n\
         \x20   hostPort: 18080\n\
         \x20 - containerPort: 53\n\
         \x20   hostPort: 18053\n\
         \x20   protocol: udp\n\
         \x20   listenAddress: \"::\"\n\
         \x20 extraMounts:\n\
         \x20 - hostPath: {dir}\n\
         \x20   containerPath: /data\n\
         \x20   readOnly: true\n\
         \x20   propagation: None\n\
         - role: worker\n",
    );
    let config = valid(file_layer(&text));
    assert_eq!(config.nodes.workers(), 2);
    let master = config.nodes.spec(0).unwrap();
    assert_eq!(master.role, crate::config::nodes::NodeRole::ControlPlane);
    let ports: Vec<String> = master
        .extra_port_mappings
        .iter()
        .map(|p| {
            format!(
                "{} {}:{} -> {}",
                p.protocol, p.listen_address, p.host_port, p.container_port
            )
        })
        .collect();
    // ipv6 mode: the default listen address is the host's IPv6 loopback.
    assert_eq!(ports, ["TCP ::1:18080 -> 80", "UDP :::18053 -> 53"]);
    assert_eq!(master.extra_mounts.len(), 1);
    assert_eq!(master.extra_mounts[0].container_path, "/data");
    assert!(master.extra_mounts[0].read_only);
    // The workers keep their order; the first had its labels.
    let first_worker = config.nodes.spec(1).unwrap();
    assert_eq!(first_worker.labels["tier"], "frontend");
    assert!(config.nodes.spec(2).unwrap().labels.is_empty());
}

#[test]
fn file_nodes_list_defaults_to_ipv4_loopback_outside_ipv6_mode() {
    let text = kind_nodes(
        "ipMode: dual-stack\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 18080\n",
    );
    let config = valid(file_layer(&text));
    let port = &config.nodes.spec(0).unwrap().extra_port_mappings[0];
    assert_eq!(port.listen_address.to_string(), "127.0.0.1");
    assert_eq!(port.protocol, crate::config::Protocol::Tcp);
}

#[test]
fn file_nodes_relative_host_path_is_made_absolute() {
    let text = kind_nodes(
        "nodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: .\n    containerPath: /src\n",
    );
    let config = valid(file_layer(&text));
    let mount = &config.nodes.spec(0).unwrap().extra_mounts[0];
    assert!(mount.host_path.starts_with('/'), "{}", mount.host_path);
    assert!(!mount.read_only);
}

#[test]
fn file_nodes_empty_list_is_the_master_alone_as_in_kind() {
    let config = valid(file_layer(&kind_nodes("nodes: []\n")));
    assert_eq!(config.nodes.workers(), 0);
}

#[test]
fn file_nodes_count_still_works_and_the_flag_overrides_it() {
    let file = file_layer(&kind_nodes("nodes: 1\n"));
    assert_eq!(valid(file.clone()).nodes.workers(), 1);
    let flags = Layer {
        nodes: flag("--nodes", "4").map(|s| vec![s]),
        ..Layer::default()
    };
    assert_eq!(valid(flags.over(file)).nodes.workers(), 4);
}

#[test]
fn a_count_from_the_environment_does_not_silently_drop_the_files_node_list() {
    let file = file_layer(&kind_nodes("nodes:\n- role: control-plane\n"));
    let env = env_layer(&[("NUM_NODES", "3")]);
    let problem = crate::config::list_overridden(&env, &file).expect("a conflict");
    assert_eq!(
        problem,
        "config file c.yaml: nodes: its node list and environment variable NUM_NODES ('3') \
         both set the nodes; drop one (unset NUM_NODES, or leave out --nodes)"
    );
    // A count in the file is simply overridden, as every other setting.
    let count_file = file_layer(&kind_nodes("nodes: 1\n"));
    assert_eq!(crate::config::list_overridden(&env, &count_file), None);
    assert_eq!(
        crate::config::list_overridden(&Layer::default(), &file),
        None
    );
}

#[test]
fn flag_nodes_takes_only_a_count() {
    let layer = Layer {
        nodes: flag("--nodes", "role: worker").map(|s| vec![s]),
        ..Layer::default()
    };
    let (setting, _, message) = refusal(layer);
    assert_eq!(setting, "--nodes");
    assert!(
        message.contains("expected a number of workers"),
        "{message}"
    );
}

#[test]
fn file_nodes_refusals_name_the_field_path_the_value_the_line_and_the_fix() {
    // (entries after `nodes:`, the field path, the value, fragments of the message)
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "- role: control-plane\n- role: worker\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 70000\n",
            "nodes[1].extraPortMappings[0].hostPort",
            "70000",
            &["line 8", "expected a port from 1 to 65535"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n",
            "nodes[0].extraPortMappings[0].hostPort",
            "",
            &["missing; give a port from 1 to 65535; dind does not pick a free host port as kind does"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - hostPort: 8080\n",
            "nodes[0].extraPortMappings[0].containerPort",
            "",
            &["line 6", "missing; give a port"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    protocol: ICMP\n",
            "nodes[0].extraPortMappings[0].protocol",
            "ICMP",
            &["use TCP, UDP or SCTP"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    listenAddress: 0.0.0.0\n",
            "nodes[0].extraPortMappings[0].listenAddress",
            "0.0.0.0",
            &["in ipv6 mode the nodes have no IPv4 address", "(e.g. ::)"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    listenAddress: localhost\n",
            "nodes[0].extraPortMappings[0].listenAddress",
            "localhost",
            &["expected an IP address"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    hostIP: ::1\n",
            "nodes[0].extraPortMappings[0].hostIP",
            "hostIP",
            &["unknown field; expected one of containerPort, hostPort, listenAddress, protocol"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: {dir}\n    containerPath: data\n",
            "nodes[0].extraMounts[0].containerPath",
            "data",
            &["must be absolute, like /data"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: /no/such/dind/path\n    containerPath: /data\n",
            "nodes[0].extraMounts[0].hostPath",
            "/no/such/dind/path",
            &["does not exist on this machine (the one running dind)"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: {dir}\n    containerPath: /data\n    selinuxRelabel: true\n",
            "nodes[0].extraMounts[0].selinuxRelabel",
            "true",
            &["dind does not relabel mounts"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: {dir}\n    containerPath: /data\n    propagation: Bidirectional\n",
            "nodes[0].extraMounts[0].propagation",
            "Bidirectional",
            &["dind mounts without propagation"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: {dir}\n    containerPath: /data\n    readOnly: maybe\n",
            "nodes[0].extraMounts[0].readOnly",
            "maybe",
            &["use true or false"],
        ),
        (
            "- role: control-plane\n  labels:\n    \"-bad\": x\n",
            "nodes[0].labels.-bad",
            "-bad",
            &["a label name has 1-63 characters"],
        ),
        (
            "- role: control-plane\n  labels:\n    tier: \"front end\"\n",
            "nodes[0].labels.tier",
            "front end",
            &["a label value is empty or has up to 63 characters"],
        ),
        (
            "- role: control-plane\n  labels:\n    node-role.kubernetes.io/edge: \"\"\n",
            "nodes[0].labels.node-role.kubernetes.io/edge",
            "node-role.kubernetes.io/edge",
            &["line 6", "kubelet.kubernetes.io/ and node.kubernetes.io/"],
        ),
        (
            "- role: control-plane\n  labels:\n    Example.com/tier: x\n",
            "nodes[0].labels.Example.com/tier",
            "Example.com/tier",
            &["not a DNS subdomain"],
        ),
        (
            "- role: master\n",
            "nodes[0].role",
            "master",
            &["line 4", "use control-plane or worker"],
        ),
        (
            "- labels: {}\n",
            "nodes[0].role",
            "",
            &["missing; give `role: control-plane` or `role: worker`"],
        ),
        (
            "- role: control-plane\n  image: kindest/node:v1.30.0\n",
            "nodes[0].image",
            "image",
            &["use the top-level `nodeImage`"],
        ),
        (
            "- role: control-plane\n  kubeadmConfigPatches: []\n",
            "nodes[0].kubeadmConfigPatches",
            "kubeadmConfigPatches",
            &["use the top-level `kubeadmConfigPatches`"],
        ),
        (
            "- role: control-plane\n  extraPortMapping: []\n",
            "nodes[0].extraPortMapping",
            "extraPortMapping",
            &["unknown field; expected one of role, labels, extraPortMappings, extraMounts"],
        ),
        (
            "- role: control-plane\n- role: control-plane\n",
            "nodes[1].role",
            "control-plane",
            &["dind runs one control-plane node (the master, nodes[0])", "`role: worker`"],
        ),
        (
            "- role: worker\n",
            "nodes",
            "1 workers",
            &["no `role: control-plane` node; add one"],
        ),
        (
            "- role: control-plane\n  extraPortMappings: 80\n",
            "nodes[0].extraPortMappings",
            "80",
            &["expected a list, got a number"],
        ),
    ];
    for &(entries, path, value, fragments) in cases {
        let text = kind_nodes(&format!("nodes:\n{entries}"));
        let refusals = nodes_refusals(&text);
        let found = refusals.iter().find(|(setting, _, _)| setting == path);
        let Some((_, shown, message)) = found else {
            panic!("{entries:?}: no refusal of {path}: {refusals:?}");
        };
        assert_eq!(shown, value, "{entries:?}");
        assert!(
            message.starts_with(&format!("invalid {path} '{value}' (from entry ")),
            "{message}"
        );
        assert!(
            message.contains("of key 'nodes' of config file c.yaml"),
            "{message}"
        );
        for fragment in fragments {
            assert!(
                message.contains(fragment),
                "{entries:?}: {message:?} lacks {fragment:?}"
            );
        }
    }
}

#[test]
fn file_nodes_refusals_point_at_the_fields_line_even_past_comments_and_in_flow_style() {
    let text = kind_nodes(
        "nodes:\n\
         # the master\n\
         - role: control-plane\n\
         \x20 extraPortMappings:\n\
         \x20 # the web\n\
         \x20 - containerPort: 80\n\
         \x20   hostPort: 18080\n\
         \x20 - containerPort: 81\n\
         \x20   hostPort: 0\n\
         - {role: worker, extraPortMappings: [{containerPort: 99999, hostPort: 18081}]}\n",
    );
    let refusals = nodes_refusals(&text);
    let messages: Vec<&str> = refusals.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with(
            "invalid nodes[0].extraPortMappings[1].hostPort '0' (from entry 0 of key 'nodes' of \
             config file c.yaml, line 11)"
        ),
        "{messages:?}"
    );
    // A flow-style entry: its own line.
    assert!(
        messages[1].starts_with(
            "invalid nodes[1].extraPortMappings[0].containerPort '99999' (from entry 1 of key \
             'nodes' of config file c.yaml, line 12)"
        ),
        "{messages:?}"
    );
}

#[test]
fn file_nodes_duplicate_host_port_across_the_cluster_is_refused() {
    let text = kind_nodes(
        "nodes:\n\
         - role: control-plane\n\
         \x20 extraPortMappings:\n\
         \x20 - {containerPort: 80, hostPort: 18080}\n\
         \x20 - {containerPort: 53, hostPort: 18080, protocol: UDP}\n\
         - role: worker\n\
         \x20 extraPortMappings:\n\
         \x20 - {containerPort: 81, hostPort: 18080, listenAddress: \"::\"}\n",
    );
    let refusals = nodes_refusals(&text);
    // UDP on the same port is another socket; `::` covers the master's ::1.
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    let (setting, value, message) = &refusals[0];
    assert_eq!(setting, "nodes[1].extraPortMappings[0].hostPort");
    assert_eq!(value, "18080");
    assert!(
        message.contains(
            "TCP 18080 on ::1 is published by nodes[0].extraPortMappings[0] already; pick another hostPort"
        ),
        "{message}"
    );
}

#[test]
fn file_nodes_every_refusal_is_reported_at_once() {
    let text = kind_nodes(
        "nodes:\n\
         - role: control-plane\n\
         \x20 extraPortMappings:\n\
         \x20 - {containerPort: 0, hostPort: 18080}\n\
         - role: boss\n\
         \x20 extraMounts:\n\
         \x20 - {hostPath: /no/such/dind/path, containerPath: rel}\n\
         clusterId: 300\n",
    );
    let settings: Vec<String> = nodes_refusals(&text).into_iter().map(|r| r.0).collect();
    assert_eq!(
        settings,
        [
            "--cluster-id",
            "nodes[0].extraPortMappings[0].containerPort",
            "nodes[1].role",
            "nodes[1].extraMounts[0].containerPath",
            "nodes[1].extraMounts[0].hostPath",
        ]
    );
}

#[test]
fn recorded_nodes_are_a_count_without_node_settings_and_kinds_list_with_them() {
    let plain = valid(Layer::default());
    let json = serde_json::to_value(&plain).unwrap();
    assert_eq!(json["nodes"], 2);
    // A record written before node lists existed reads back.
    let old: Config = serde_json::from_value(json).unwrap();
    assert_eq!(old, plain);

    let text = kind_nodes(
        "nodes:\n- role: control-plane\n  extraPortMappings:\n  - {containerPort: 80, hostPort: 18080}\n- role: worker\n  labels: {tier: db}\n",
    );
    let config = valid(file_layer(&text));
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(
        json["nodes"],
        serde_json::json!([
            {"role": "control-plane", "extraPortMappings": [
                {"containerPort": 80, "hostPort": 18080, "listenAddress": "::1", "protocol": "TCP"}
            ]},
            {"role": "worker", "labels": {"tier": "db"}}
        ])
    );
    let back: Config = serde_json::from_value(json).unwrap();
    assert_eq!(back, config);
    // A forged list without its master first is refused when read back.
    let forged = serde_json::json!([{"role": "worker"}, {"role": "control-plane"}]);
    assert!(serde_json::from_value::<Nodes>(forged).is_err());
}
