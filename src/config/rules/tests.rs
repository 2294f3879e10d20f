//! The rules across settings: Kubernetes from files beside the node image and the version.

use crate::config::tests::*;
use crate::config::{validate, Layer};
use crate::test_support::{config_from_env, env_layer, flag, valid};

// ---------------------------------------------------------------- kubernetes from files

#[test]
fn kubernetes_from_is_a_path_made_absolute_from_flag_env_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let kit = dir.path().join("kit");
    std::fs::create_dir(&kit).unwrap();
    let absolute = std::fs::canonicalize(&kit).unwrap();
    let from_flag = valid(Layer {
        kubernetes_from: flag("--kubernetes-from", kit.to_str().unwrap()),
        ..Layer::default()
    });
    assert_eq!(
        from_flag.kubernetes_from.as_deref(),
        Some(absolute.as_path())
    );
    let from_env = config_from_env(&[("DIND_KUBERNETES_FROM", kit.to_str().unwrap())]);
    assert_eq!(
        from_env.kubernetes_from.as_deref(),
        Some(absolute.as_path())
    );
    let from_file = valid(file_layer(&format!(
        "{HEADER}kubernetesFrom: {}\n",
        kit.display()
    )));
    assert_eq!(
        from_file.kubernetes_from.as_deref(),
        Some(absolute.as_path())
    );
    assert_eq!(valid(Layer::default()).kubernetes_from, None);
}

#[test]
fn a_missing_kubernetes_from_path_is_refused_with_what_to_give() {
    let (setting, origin, text) = refusal(Layer {
        kubernetes_from: flag("--kubernetes-from", "/nonexistent/kit"),
        ..Layer::default()
    });
    assert_eq!(setting, "--kubernetes-from");
    assert_eq!(origin, "flag --kubernetes-from");
    assert!(text.contains("cannot read it"), "{text}");
    assert!(text.contains(".ci/kubernetes-kit"), "{text}");
}

#[test]
fn kubernetes_from_refuses_a_node_image_a_version_and_no_kubernetes_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let kit = dir.path().to_str().unwrap();
    let with = |layer: Layer| {
        let (setting, _, text) = refusal(Layer {
            kubernetes_from: flag("--kubernetes-from", kit),
            ..layer
        });
        assert_eq!(setting, "--kubernetes-from", "{text}");
        text
    };
    let text = with(Layer {
        node_image: flag("--node-image", "mine:1"),
        ..Layer::default()
    });
    assert!(
        text.contains("cannot go with --node-image (from flag --node-image)"),
        "{text}"
    );
    let text = with(Layer {
        kubernetes_version: flag("--kubernetes-version", "v1.34"),
        ..Layer::default()
    });
    assert!(text.contains("leave the version out"), "{text}");
    let text = with(Layer {
        kubernetes: flag("--no-kubernetes", "false"),
        ..Layer::default()
    });
    assert!(text.contains("leaves Kubernetes out"), "{text}");
}

#[test]
fn overlap_check_uses_the_cluster_specific_mgmt_cidr() {
    let result = validate(env_layer(&[
        ("CLUSTER_ID", "5"),
        ("POD_NETWORK_CIDR", "fd00:20:5::/72"),
    ]));
    let err = result.expect_err("fd00:20:5::/64 overlaps fd00:20:5::/72");
    assert!(err.to_string().contains("overlaps"), "{err}");
}

#[test]
fn a_mirror_patch_is_refused_beside_the_registry() {
    let patches = "containerdConfigPatches:\n- \"a = 1\"\n- |\n  \
                   [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  \
                   endpoint = [\"http://mirror:5000\"]\n";
    assert_eq!(
        valid(file_layer(&format!("{HEADER}{patches}")))
            .containerd_config_patches
            .len(),
        2
    );
    let err = validate(file_layer(&format!("{HEADER}registry: true\n{patches}")))
        .expect_err("containerd would refuse it");
    let message = err.to_string();
    assert!(
        message.starts_with("invalid containerdConfigPatches[1] "),
        "{message}"
    );
    assert!(
        message.contains("drop the mirrors or the registry"),
        "{message}"
    );
}
