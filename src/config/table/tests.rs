//! The settings table: every setting's default per IP mode, one row per flag and file key,
//! the help it gives, and every refusal reported in the table's order.

use crate::config::tests::*;
use crate::config::{
    env_var_names, validate, Config, IpMode, KubeVersion, KubeadmKind, Layer, Nat64Engine, Nodes,
    Origin, Sourced, V4Prefix16,
};
use crate::test_support::{env_layer, flag, valid};

// ---------------------------------------------------------------- defaults per IP mode

#[test]
fn defaults_are_kdc_ipv6_defaults() {
    let config = valid(Layer::default());
    pretty_assertions::assert_eq!(
        config,
        Config {
            cluster_id: 0,
            ip_mode: IpMode::Ipv6,
            nodes: Nodes::count(2),
            allow_aaaa: false,
            dns64_prefix: crate::config::rfc6052::parse("fd00:10:64:ff9b::/96").unwrap(),
            nat64_v4_prefix: V4Prefix16(172, 18),
            nat64_engine: Nat64Engine::DindNat64,
            // The Docker host's resolvers, through Docker's embedded DNS.
            upstream_dns: None,
            egress_interface: None,
            kubernetes: true,
            mgmt_cidrs: nets(&["fd00:20::/64"]),
            pod_cidrs: nets(&["fd00:40::/72"]),
            service_cidrs: nets(&["fd00:30::/110"]),
            node_image: None,
            kubernetes_from: None,
            probes: Vec::new(),
            kubernetes_version: KubeVersion {
                minor: 36,
                patch: None
            },
            feature_gates: Default::default(),
            kubeadm_config_patches: Vec::new(),
            registry: false,
            containerd_config_patches: Vec::new(),
        }
    );
}

/// (ip mode flag, mode, mgmt, pods, services, allow_aaaa)
type ModeDefaults = (
    &'static str,
    IpMode,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    bool,
);

#[test]
fn defaults_per_ip_mode() {
    let cases: &[ModeDefaults] = &[
        (
            "ipv6",
            IpMode::Ipv6,
            &["fd00:20::/64"],
            &["fd00:40::/72"],
            &["fd00:30::/110"],
            false,
        ),
        (
            "ipv4",
            IpMode::Ipv4,
            &["10.192.0.0/24"],
            &["10.244.0.0/16"],
            &["10.96.0.0/12"],
            false,
        ),
        (
            "dual-stack",
            IpMode::DualStack,
            &["10.192.0.0/24", "fd00:20::/64"],
            &["10.244.0.0/16", "fd00:40::/72"],
            &["fd00:30::/110", "10.96.0.0/12"],
            true,
        ),
        (
            "dual",
            IpMode::DualStack,
            &["10.192.0.0/24", "fd00:20::/64"],
            &["10.244.0.0/16", "fd00:40::/72"],
            &["fd00:30::/110", "10.96.0.0/12"],
            true,
        ),
    ];
    for &(mode_flag, mode, mgmt, pods, service, allow_aaaa) in cases {
        let config = valid(Layer {
            ip_mode: flag("--ip-mode", mode_flag),
            ..Layer::default()
        });
        assert_eq!(config.ip_mode, mode, "{mode_flag}");
        assert_eq!(config.mgmt_cidrs, nets(mgmt), "{mode_flag}");
        assert_eq!(config.pod_cidrs, nets(pods), "{mode_flag}");
        assert_eq!(config.service_cidrs, nets(service), "{mode_flag}");
        assert_eq!(config.allow_aaaa, allow_aaaa, "{mode_flag}");
        // Mode-independent defaults.
        assert_eq!(config.nodes.workers(), 2, "{mode_flag}");
        assert_eq!(config.cluster_id, 0, "{mode_flag}");
        assert_eq!(config.upstream_dns, None, "{mode_flag}");
        assert_eq!(config.nat64_v4_prefix, V4Prefix16(172, 18), "{mode_flag}");
        assert!(config.kubernetes, "{mode_flag}");
    }
}

#[test]
fn dual_stack_forces_allow_aaaa_even_when_turned_off() {
    let config = valid(Layer {
        ip_mode: flag("--ip-mode", "dual-stack"),
        allow_aaaa: flag("--allow-aaaa", "false"),
        ..Layer::default()
    });
    assert!(config.allow_aaaa);
}

#[test]
fn dual_stack_sorts_ipv4_before_ipv6() {
    let config = valid(Layer {
        ip_mode: flag("--ip-mode", "dual-stack"),
        mgmt_cidrs: flag("--mgmt-cidrs", "fd00:21::/64, 10.193.0.0/24"),
        pod_cidrs: flag("--pod-cidrs", "fd00:41::/72 10.245.0.0/16"),
        ..Layer::default()
    });
    assert_eq!(config.mgmt_cidrs, nets(&["10.193.0.0/24", "fd00:21::/64"]));
    assert_eq!(config.pod_cidrs, nets(&["10.245.0.0/16", "fd00:41::/72"]));
}

// ---------------------------------------------------------------- every refusal, the table

#[test]
fn every_refused_setting_is_reported_in_table_order_one_per_line() {
    let layer = Layer {
        nodes: flag("--nodes", "300").map(|s| vec![s]),
        upstream_dns: flag("--upstream-dns", "::1"),
        feature_gates: flag("--feature-gates", "Alpha"),
        ..env_layer(&[("DIND_K8S_VERSION", "v1.29"), ("CLUSTER_ID", "255")])
    };
    let err = validate(layer).expect_err("five settings are bad");
    let settings: Vec<&str> = err.refusals().iter().map(|r| r.setting.as_str()).collect();
    assert_eq!(
        settings,
        [
            "--cluster-id",
            "--nodes",
            "--upstream-dns",
            "--kubernetes-version",
            "--feature-gates"
        ]
    );
    let lines: Vec<String> = err.to_string().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 5, "{err}");
    // The first line is what the first refusal alone says.
    assert_eq!(
        lines[0],
        "invalid --cluster-id '255' (from environment variable CLUSTER_ID): expected a number \
         from 0 to 254"
    );
    assert_eq!(err.first().setting, "--cluster-id");
    for (line, refusal) in lines.iter().zip(err.refusals()) {
        assert_eq!(line, &refusal.to_string());
    }
}

#[test]
fn an_unknown_ip_mode_refuses_only_what_can_be_judged_without_it() {
    // The CIDRs' families need the mode; the node count does not.
    let err = validate(env_layer(&[
        ("IP_MODE", "ipv5"),
        ("MGMT_CIDRS", "10.192.0.0/24"),
        ("NUM_NODES", "251"),
    ]))
    .expect_err("refused");
    let settings: Vec<&str> = err.refusals().iter().map(|r| r.setting.as_str()).collect();
    assert_eq!(settings, ["--ip-mode", "--nodes"], "{err}");
}

#[test]
fn every_bad_patch_is_refused_on_its_own() {
    let err = validate(file_layer(&format!(
        "{HEADER}kubeadmConfigPatches:\n- \"kind: Deployment\"\n- \"kind: KubeletConfiguration\"\n\
         - \"kind: [unclosed\"\n"
    )))
    .expect_err("two patches are bad");
    let values: Vec<&str> = err.refusals().iter().map(|r| r.value.as_str()).collect();
    assert_eq!(values, ["kind: Deployment", "kind: [unclosed"], "{err}");
}

#[test]
fn kubeadm_patches_are_parsed_once_and_recorded_as_their_text() {
    let text =
        "kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nmaxPods: 10\n";
    let config = valid(Layer {
        kubeadm_config_patches: Some(vec![Sourced::new(
            text,
            Origin::File {
                path: "c.yaml".into(),
                key: "kubeadmConfigPatches",
            },
        )]),
        ..Layer::default()
    });
    let patch = &config.kubeadm_config_patches[0];
    assert_eq!(patch.kind(), KubeadmKind::KubeletConfiguration);
    assert_eq!(patch.api_version(), Some("kubelet.config.k8s.io/v1beta1"));
    assert_eq!(patch.value()["maxPods"].as_i64(), Some(10));
    // A record holds the text, as records written before the patches were typed do.
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["kubeadmConfigPatches"], serde_json::json!([text]));
    let back: Config = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, config);
    // A forged record with a patch dind would refuse is refused on read.
    let mut forged = json;
    forged["kubeadmConfigPatches"] = serde_json::json!(["kind: Deployment"]);
    let err = serde_json::from_value::<Config>(forged).unwrap_err();
    assert!(
        err.to_string().contains("a patch is a YAML mapping"),
        "{err}"
    );
}

#[test]
fn env_var_names_are_exactly_the_variables_read() {
    let names = env_var_names();
    for expected in [
        "DIND_K8S_VERSION",
        "FEATURE_GATES",
        "DNS64_PREFIX_SIZE",
        "CLUSTER_ID",
    ] {
        assert!(names.contains(&expected), "{names:?} lacks {expected}");
    }
    // Each one, set alone, sets something.
    for name in &names {
        assert_ne!(env_layer(&[(name, "7")]), Layer::default(), "{name}");
    }
    // Nothing else is read: a lookup that records what it is asked.
    let asked = std::cell::RefCell::new(Vec::new());
    Layer::from_env(|name| {
        asked.borrow_mut().push(name.to_string());
        None
    });
    let mut asked = asked.into_inner();
    asked.sort();
    let mut listed: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    listed.sort();
    assert_eq!(asked, listed);
}

#[test]
fn the_table_names_each_flag_and_file_key_once() {
    let rows = crate::config::SETTINGS;
    let mut keys: Vec<&str> = rows.iter().map(|r| r.file.key()).collect();
    let mut flags: Vec<&str> = rows.iter().filter_map(|r| r.flag_name()).collect();
    let (key_count, flag_count) = (keys.len(), flags.len());
    keys.sort();
    keys.dedup();
    flags.sort();
    flags.dedup();
    assert_eq!((keys.len(), flags.len()), (key_count, flag_count));
    // The first two are what the others are judged against.
    assert_eq!(rows[0].field, "ip_mode");
    assert_eq!(rows[1].field, "cluster_id");
}

#[test]
fn help_shows_the_rows_variables_and_defaults() {
    let help = |field: &str| {
        crate::config::SETTINGS
            .iter()
            .find(|r| r.field == field)
            .unwrap()
            .help_text()
    };
    assert_eq!(
        help("nodes"),
        "Worker nodes besides the master [env: NUM_NODES] [default: 2]"
    );
    assert!(
        help("mgmt_cidrs").ends_with(
            "[env: MGMT_CIDRS] [default: fd00:20::/64 in ipv6 mode, 10.192.0.0/24 in ipv4 mode, \
             10.192.0.0/24,fd00:20::/64 in dual-stack mode]"
        ),
        "{}",
        help("mgmt_cidrs")
    );
    assert!(help("dns64_prefix").contains("[env: DNS64_PREFIX + DNS64_PREFIX_SIZE]"));
    assert_eq!(
        help("kubernetes"),
        "Stop after the network plane and the node containers"
    );
    assert_eq!(
        help("feature_gates"),
        "Feature gates for every Kubernetes component, e.g. Name=true,Other=false \
         [env: FEATURE_GATES]"
    );
}
