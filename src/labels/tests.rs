use super::*;
use crate::config::IpMode;
use crate::test_support::config_from_env;
use serde_json::{json, Value};

fn record(vars: &[(&str, &str)]) -> Record {
    Record {
        config: config_from_env(vars),
        enabled_ipv6_forwarding: true,
        ip6_forward_policy: None,
        kubeconfig: None,
        api_server_port: Some(40123),
        proxy: Default::default(),
    }
}

fn labels_with(json: &str) -> HashMap<String, String> {
    HashMap::from([(RECORD.to_string(), json.to_string())])
}

fn decode(value: &Value) -> Result<Option<Record>, RecordError> {
    Record::from_labels(&labels_with(&value.to_string()))
}

/// The record JSON as `labels` writes it.
fn written(record: &Record) -> Value {
    serde_json::from_str(&record.labels(Role::Master)[RECORD]).unwrap()
}

#[test]
fn a_record_round_trips_through_its_labels_with_its_version() {
    let record = record(&[("CLUSTER_ID", "7"), ("IP_MODE", "dual-stack")]);
    let labels = record.labels(Role::Nat64);
    assert_eq!(labels[CLUSTER], "7");
    assert_eq!(labels[ROLE], "nat64");
    // Without node settings, the version every dind reads.
    assert_eq!(written(&record)["version"], json!(1));
    assert_eq!(Record::from_labels(&labels), Ok(Some(record)));
}

#[test]
fn no_record_label_is_no_record() {
    assert_eq!(Record::from_labels(&HashMap::new()), Ok(None));
}

#[test]
fn a_record_without_a_version_reads_as_version_one() {
    let record = record(&[]);
    // Exactly what dind wrote before records carried a version.
    let unversioned = serde_json::to_value(&record).unwrap();
    assert!(unversioned.get("version").is_none());
    assert_eq!(decode(&unversioned), Ok(Some(record)));
}

#[test]
fn a_record_from_before_the_nat64_engine_ran_tayga_and_a_new_one_keeps_its_engine() {
    let own = record(&[("DIND_NAT64_ENGINE", "dind-nat64")]);
    assert_eq!(written(&own)["config"]["nat64Engine"], json!("dind-nat64"));
    assert_eq!(decode(&written(&own)), Ok(Some(own)));

    // A new cluster runs dind-nat64 unless told otherwise.
    assert_eq!(
        record(&[]).config.nat64_engine,
        crate::config::Nat64Engine::DindNat64
    );
    let tayga = record(&[("DIND_NAT64_ENGINE", "tayga")]);
    let mut old = written(&tayga);
    old["config"].as_object_mut().unwrap().remove("nat64Engine");
    let read = decode(&old).unwrap().unwrap();
    assert_eq!(read.config.nat64_engine, crate::config::Nat64Engine::Tayga);
    assert_eq!(read, tayga);
}

#[test]
fn an_old_record_with_a_single_service_cidr_still_reads() {
    let record = record(&[]);
    let mut old = serde_json::to_value(&record).unwrap();
    let config = old["config"].as_object_mut().unwrap();
    config.remove("serviceCidrs");
    config.insert("serviceCidr".into(), json!("fd00:30::/110"));
    assert_eq!(decode(&old), Ok(Some(record)));
}

#[test]
fn a_newer_record_is_refused_by_its_version_even_when_its_shape_changed() {
    let newer = json!({"version": 3, "cluster": {"whatever": true}});
    assert_eq!(decode(&newer), Err(RecordError::Newer(3)));
    let message = RecordError::Newer(3).to_string();
    assert!(message.contains("written by a newer dind"), "{message}");
}

#[test]
fn a_version_that_is_no_number_is_refused() {
    for version in [json!("two"), json!(0), json!(-1), json!(1.5), Value::Null] {
        let mut value = written(&record(&[]));
        value["version"] = version.clone();
        assert!(
            matches!(decode(&value), Err(RecordError::BadVersion(_))),
            "{version}: {:?}",
            decode(&value)
        );
    }
}

#[test]
fn garbage_is_unreadable() {
    for text in [
        "",
        "not json",
        "[1,2]",
        "{\"config\": 5}",
        "{\"version\": 1}",
    ] {
        assert!(
            matches!(
                Record::from_labels(&labels_with(text)),
                Err(RecordError::Unreadable(_))
            ),
            "{text:?}"
        );
    }
}

#[test]
fn a_number_beyond_its_type_is_unreadable_not_an_overflow() {
    let mut value = written(&record(&[]));
    value["config"]["clusterId"] = json!(300);
    assert!(matches!(decode(&value), Err(RecordError::Unreadable(_))));
}

#[test]
fn a_forged_cluster_255_with_255_nodes_is_refused_with_both_problems() {
    let mut value = written(&record(&[]));
    value["config"]["clusterId"] = json!(255);
    value["config"]["nodes"] = json!(255);
    let Err(RecordError::Invalid(problems)) = decode(&value) else {
        panic!("accepted: {:?}", decode(&value));
    };
    let text = problems.join("; ");
    assert!(text.contains("cluster id 255"), "{text}");
    assert!(text.contains("255 worker nodes"), "{text}");
}

#[test]
fn a_record_with_kinds_node_list_round_trips_and_a_forged_one_is_refused() {
    let mut record = record(&[]);
    record.config.nodes = serde_json::from_value(json!([
        {"role": "control-plane", "extraPortMappings": [
            {"containerPort": 80, "hostPort": 18080, "listenAddress": "::1", "protocol": "UDP"}
        ], "extraMounts": [{"hostPath": "/tmp", "containerPath": "/data", "readOnly": true}]},
        {"role": "worker", "labels": {"tier": "db"}}
    ]))
    .unwrap();
    let labels = record.labels(Role::Master);
    assert_eq!(Record::from_labels(&labels), Ok(Some(record.clone())));
    // The list is version 2's: a dind that reads up to version 1 says it is a newer one's.
    assert_eq!(written(&record)["version"], json!(2));
    assert_eq!(RECORD_VERSION, 2);
    let forged_cases = [
        (json!({"tier": "a,b=c"}), "invalid label"),
        (json!({"node-role.kubernetes.io/x": ""}), "invalid label"),
    ];
    for (labels, expected) in forged_cases {
        let mut value = written(&record);
        value["config"]["nodes"][1]["labels"] = labels.clone();
        let Err(RecordError::Invalid(problems)) = decode(&value) else {
            panic!("{labels} accepted: {:?}", decode(&value));
        };
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{problems:?}"
        );
    }
    let mut value = written(&record);
    value["config"]["nodes"][0]["extraMounts"][0]["containerPath"] = json!("data");
    let Err(RecordError::Invalid(problems)) = decode(&value) else {
        panic!("a relative mount accepted");
    };
    assert!(
        problems.iter().any(|p| p.contains("must be absolute")),
        "{problems:?}"
    );
}

#[test]
fn out_of_range_fields_are_refused() {
    let cases: [(&str, Value, &str); 6] = [
        ("nodes", json!(251), "worker nodes"),
        ("mgmtCidrs", json!(["fd00:20::/120"]), "narrower than /112"),
        (
            "mgmtCidrs",
            json!(["10.192.0.0/24"]),
            "give exactly one IPv6 CIDR in ipv6 mode",
        ),
        ("podCidrs", json!(["fd00:40::/124"]), "8 bits"),
        (
            "serviceCidrs",
            json!(["10.96.0.0/12"]),
            "give exactly one IPv6 CIDR in ipv6 mode",
        ),
        ("egressInterface", json!("eth0; reboot"), "interface name"),
    ];
    for (field, forged, expected) in cases {
        let mut value = written(&record(&[]));
        value["config"][field] = forged.clone();
        let Err(RecordError::Invalid(problems)) = decode(&value) else {
            panic!("{field} {forged} accepted: {:?}", decode(&value));
        };
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{field} {forged}: {problems:?}"
        );
    }
}

/// A record reads its DNS64 prefix as config reads the setting: RFC 6052's rule refuses it
/// before there is a configuration to check.
#[test]
fn a_dns64_prefix_outside_rfc_6052_is_unreadable() {
    let cases = [
        (
            "fd00:10:64:ff9b::/120",
            "the length must be 32, 40, 48, 56, 64 or 96 (RFC 6052)",
        ),
        ("fd00:10:64:ff9b:ff00::/96", "bits 64-71 must be zero"),
        ("fd00:10:64:ff9b::1/96", "host bits are set"),
    ];
    for (forged, expected) in cases {
        let mut value = written(&record(&[]));
        value["config"]["dns64Prefix"] = json!(forged);
        let Err(RecordError::Unreadable(why)) = decode(&value) else {
            panic!("{forged} accepted: {:?}", decode(&value));
        };
        assert!(why.contains(expected), "{forged}: {why}");
    }
}

#[test]
fn a_nat64_octet_that_would_overflow_is_refused() {
    let mut value = written(&record(&[("CLUSTER_ID", "5")]));
    value["config"]["clusterId"] = json!(254);
    value["config"]["nat64V4Prefix"] = json!("10.200");
    assert!(matches!(decode(&value), Err(RecordError::Invalid(_))));
}

#[test]
fn every_config_up_accepts_passes_the_record_check() {
    let cases: &[&[(&str, &str)]] = &[
        &[],
        &[("IP_MODE", "ipv4")],
        &[("IP_MODE", "dual-stack")],
        &[
            ("CLUSTER_ID", "254"),
            ("IP_MODE", "ipv4"),
            ("NUM_NODES", "250"),
        ],
        &[("CLUSTER_ID", "13"), ("NUM_NODES", "0")],
        &[("CLUSTER_ID", "99"), ("NAT64_V4_SUBNET_PREFIX", "10.100")],
        &[
            ("DIND_ALLOW_AAAA_USE", "true"),
            ("DIND_EGRESS_INTERFACE", "eth0"),
        ],
        &[
            ("REMOTE_DNS64_V4SERVER", "192.0.2.33"),
            ("DNS64_PREFIX_SIZE", "64"),
        ],
        &[
            ("POD_NETWORK_CIDR", "fd00:40::/104"),
            ("MGMT_CIDRS", "fd00:20::/112"),
        ],
    ];
    for vars in cases {
        let config = config_from_env(vars);
        assert_eq!(check_config(&config), Vec::<String>::new(), "{vars:?}");
    }
}

/// Whatever the record check lets through, the plan handles: forged extremes either are
/// refused or plan without a panic or an overflow.
#[test]
fn the_plan_never_panics_on_a_config_the_record_check_accepts() {
    let mut checked = 0;
    for mode in [IpMode::Ipv4, IpMode::Ipv6, IpMode::DualStack] {
        let vars = [("IP_MODE", mode.to_string())];
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let base = config_from_env(&vars);
        for cluster_id in [0, 1, 13, 14, 99, 254, 255] {
            for nodes in [0, 250, 251, 253, 255] {
                for nat64 in ["172.18", "10.253", "10.255", "255.255"] {
                    let mut config = base.clone();
                    config.cluster_id = cluster_id;
                    config.nodes = crate::config::Nodes::count(nodes);
                    config.nat64_v4_prefix = nat64.parse().unwrap();
                    if check_config(&config).is_empty() {
                        let plan = crate::plan::plan(&config);
                        assert_eq!(plan.nodes.len(), usize::from(nodes) + 1);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 0);
}

#[test]
fn role_labels_on_the_wire_stay_as_they_were() {
    let wire: Vec<&str> = Role::ALL.iter().map(|r| r.as_label()).collect();
    assert_eq!(
        wire,
        [
            "network",
            "dns64",
            "nat64",
            "master",
            "worker",
            "host-helper",
            "image-probe",
            "registry"
        ]
    );
    for role in Role::ALL {
        assert_eq!(role.as_label().parse(), Ok(role));
        assert_eq!(serde_json::to_value(role).unwrap(), json!(role.as_label()));
    }
    assert!("kube-master".parse::<Role>().is_err());
    assert_eq!(Role::from(crate::plan::Role::Worker), Role::Worker);
}

#[test]
fn a_label_error_names_the_object_the_label_and_the_way_out() {
    let error = LabelError {
        holder: Holder::Container("kube-master-cluster-57".into()),
        label: RECORD,
        cluster_id: Some(57),
        problem: RecordError::Unreadable("expected value".into()).into(),
    };
    assert_eq!(
        error.to_string(),
        "the label io.github.dind.record of container kube-master-cluster-57 is unusable: \
         it is not a dind record (expected value); remove it with \
         `docker rm -f kube-master-cluster-57`, then `dind down --cluster-id 57` removes the rest"
    );
    let network = LabelError {
        holder: Holder::Network("kubeadm-dind-net-cluster-57".into()),
        problem: RecordError::Newer(3).into(),
        ..error
    };
    let text = network.to_string();
    assert!(
        text.contains("network kubeadm-dind-net-cluster-57")
            && text.contains("written by a newer dind (record version 3")
            && text.contains("use that dind version"),
        "{text}"
    );
}

#[test]
fn a_cluster_label_must_be_an_id() {
    let of = |value: &str| cluster_id_of(&HashMap::from([(CLUSTER.to_string(), value.into())]));
    assert_eq!(of("57"), Ok(Some(57)));
    assert_eq!(of("254"), Ok(Some(254)));
    for bad in ["255", "300", "-1", "abc", ""] {
        assert_eq!(of(bad), Err(LabelProblem::ClusterId(bad.into())), "{bad}");
    }
    assert_eq!(cluster_id_of(&HashMap::new()), Ok(None));
}

#[test]
fn the_forward_policy_before_dind_is_recorded_and_an_older_record_has_none() {
    let mut with_policy = record(&[]);
    with_policy.ip6_forward_policy = Some(ForwardPolicy::Accept);
    assert_eq!(written(&with_policy)["ip6ForwardPolicy"], json!("ACCEPT"));
    assert_eq!(decode(&written(&with_policy)), Ok(Some(with_policy)));

    let older = record(&[]);
    assert!(written(&older).get("ip6ForwardPolicy").is_none());
    assert_eq!(decode(&written(&older)), Ok(Some(older)));
}

#[test]
fn forward_policies_read_and_print_as_iptables_does() {
    for policy in [ForwardPolicy::Accept, ForwardPolicy::Drop] {
        assert_eq!(policy.to_string().parse::<ForwardPolicy>(), Ok(policy));
    }
    assert!("QUEUE".parse::<ForwardPolicy>().is_err());
}
