use super::*;
use crate::labels::LabelProblem;
use crate::test_support::config_from_env;

fn object(cluster: &str, role: Role) -> HashMap<String, String> {
    HashMap::from([
        (labels::CLUSTER.to_string(), cluster.to_string()),
        (labels::ROLE.to_string(), role.as_label().to_string()),
    ])
}

#[test]
fn clusters_are_listed_once_each_and_a_bad_cluster_label_is_reported() {
    let objects = vec![
        (Holder::Network("net-3".into()), object("3", Role::Network)),
        (Holder::Container("a".into()), object("3", Role::Master)),
        (Holder::Container("b".into()), object("1", Role::Worker)),
        (
            Holder::Container("helper".into()),
            object("9", Role::HostHelper),
        ),
        (
            Holder::Container("forged".into()),
            object("999", Role::Master),
        ),
    ];
    let list = clusters_in(objects.into_iter());
    assert_eq!(list.ids, [1, 3]);
    assert_eq!(
        list.unreadable,
        [LabelError {
            holder: Holder::Container("forged".into()),
            label: labels::CLUSTER,
            cluster_id: None,
            problem: LabelProblem::ClusterId("999".into()),
        }]
    );
}

#[test]
fn a_record_of_another_cluster_is_refused() {
    let record = Record {
        config: config_from_env(&[("CLUSTER_ID", "3")]),
        enabled_ipv6_forwarding: false,
        ip6_forward_policy: None,
        kubeconfig: None,
        api_server_port: None,
        proxy: Default::default(),
    };
    let on_object = record.labels(Role::Network);
    assert_eq!(
        record_of(Holder::Network("n".into()), 3, &on_object),
        Ok(Some(record))
    );
    let err = record_of(Holder::Network("n".into()), 4, &on_object).unwrap_err();
    assert_eq!(
        err.problem,
        LabelProblem::Record(RecordError::OtherCluster {
            labelled: 4,
            recorded: 3
        })
    );
    assert!(err.to_string().contains("docker network rm n"), "{err}");
}

#[test]
fn nodes_are_the_master_then_the_workers_by_number() {
    let objects = vec![
        (
            "kube-node-10-cluster-3".to_string(),
            object("3", Role::Worker),
        ),
        ("tayga-cluster-3".to_string(), object("3", Role::Nat64)),
        (
            "kube-node-2-cluster-3".to_string(),
            object("3", Role::Worker),
        ),
        (
            "kube-master-cluster-3".to_string(),
            object("3", Role::Master),
        ),
        ("bind9-cluster-3".to_string(), object("3", Role::Dns64)),
        ("helper".to_string(), object("3", Role::HostHelper)),
        (
            "kube-node-1-cluster-3".to_string(),
            object("3", Role::Worker),
        ),
    ];
    assert_eq!(
        nodes_in(objects.into_iter()),
        [
            "kube-master-cluster-3",
            "kube-node-1-cluster-3",
            "kube-node-2-cluster-3",
            "kube-node-10-cluster-3"
        ]
    );
    assert!(nodes_in(std::iter::empty()).is_empty());
}
