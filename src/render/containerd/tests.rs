use super::*;
use crate::config::ContainerdPatch;
use crate::test_support::config_from_env;

fn patch(text: &str) -> ContainerdPatch {
    ContainerdPatch::parse(text).expect("valid TOML")
}

fn registry_plan(vars: &[(&str, &str)]) -> RegistryPlan {
    let mut vars = vars.to_vec();
    vars.push(("DIND_REGISTRY", "true"));
    crate::plan::plan(&config_from_env(&vars))
        .registry
        .expect("planned with DIND_REGISTRY")
}

#[test]
fn hosts_toml_sends_localhost_port_to_the_registrys_ipv6_address_in_brackets() {
    let registry = registry_plan(&[("CLUSTER_ID", "3")]);
    let file = registry_hosts(&registry);
    assert_eq!(
        file.path,
        "/etc/containerd/certs.d/localhost:5004/hosts.toml"
    );
    let hosts: toml::Table = file.contents.parse().expect("hosts.toml is TOML");
    assert_eq!(hosts["server"].as_str(), Some("http://localhost:5004"));
    let host = hosts["host"]["http://[fd00:20:3::300]:5000"]
        .as_table()
        .expect("the registry's address is a host");
    assert_eq!(host["capabilities"].as_array().unwrap().len(), 2);
    // An inline table: containerd 1.6 refuses a table header with the brackets in it.
    assert!(!file.contents.contains("[host."), "{}", file.contents);
}

#[test]
fn an_ipv4_cluster_reaches_its_registry_at_an_ipv4_address() {
    let registry = registry_plan(&[("IP_MODE", "ipv4")]);
    assert_eq!(registry.endpoint(), "http://10.192.0.254:5000");
    assert_eq!(registry.name(), "localhost:5001");
}

#[test]
fn a_registry_sets_config_path_for_the_config_version_of_the_image() {
    let v2 = merged_config(Some("version = 2\n"), true, &[]).unwrap();
    let v2: toml::Table = v2.parse().unwrap();
    assert_eq!(
        v2["plugins"]["io.containerd.grpc.v1.cri"]["registry"]["config_path"].as_str(),
        Some(CERTS_DIR)
    );
    let v3: toml::Table = merged_config(Some("version = 3\n"), true, &[])
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        v3["plugins"]["io.containerd.cri.v1.images"]["registry"]["config_path"].as_str(),
        Some(CERTS_DIR)
    );
    // No file in the image: containerd must read dind's as version 2.
    let none: toml::Table = merged_config(None, true, &[]).unwrap().parse().unwrap();
    assert_eq!(none["version"].as_integer(), Some(2));
}

#[test]
fn patches_merge_table_by_table_in_order_and_keep_the_rest_of_the_image() {
    let base = include_str!("../../../images/node/containerd-config.toml");
    let merged = merged_config(
        Some(base),
        false,
        &[
            patch("[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"native\"\n"),
            patch(
                "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n\
                 endpoint = [\"http://mirror:5000\"]\n",
            ),
            patch(
                "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"overlayfs\"\n",
            ),
        ],
    )
    .unwrap();
    let merged: toml::Table = merged.parse().unwrap();
    let cri = &merged["plugins"]["io.containerd.grpc.v1.cri"];
    assert_eq!(cri["containerd"]["snapshotter"].as_str(), Some("overlayfs"));
    // Keys of the image beside the patched ones stay.
    assert_eq!(
        cri["containerd"]["default_runtime_name"].as_str(),
        Some("runc")
    );
    assert_eq!(
        cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"].as_bool(),
        Some(true)
    );
    assert_eq!(cri["sandbox_image"].as_str(), Some("@SANDBOX_IMAGE@"));
    assert_eq!(
        cri["registry"]["mirrors"]["docker.io"]["endpoint"][0].as_str(),
        Some("http://mirror:5000")
    );
    assert_eq!(merged["version"].as_integer(), Some(2));
}

#[test]
fn a_base_that_is_not_toml_is_named() {
    let err = merged_config(Some("[unclosed"), true, &[]).unwrap_err();
    assert!(
        err.contains("node image's /etc/containerd/config.toml is not TOML"),
        "{err}"
    );
}

#[test]
fn nothing_is_written_without_a_registry_or_patches() {
    assert!(!changes_config(false, &[]));
    assert!(changes_config(true, &[]));
    assert!(changes_config(false, &[patch("a = 1")]));
}

#[test]
fn the_dry_run_shows_the_patch_dind_merges() {
    let text = dry_run_patch(true, &[patch("[debug]\nlevel = \"debug\"\n")]).unwrap();
    assert!(
        text.starts_with("# merged into the node image's own"),
        "{text}"
    );
    assert!(
        text.contains("config_path = \"/etc/containerd/certs.d\""),
        "{text}"
    );
    assert!(text.contains("level = \"debug\""), "{text}");
}

#[test]
fn mirrors_beside_config_path_are_refused_as_containerd_would() {
    let mirrors = patch(
        "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n\
         endpoint = [\"http://mirror:5000\"]\n",
    );
    let err =
        merged_config(Some("version = 2\n"), true, std::slice::from_ref(&mirrors)).unwrap_err();
    assert!(err.contains("both `mirrors` and `config_path`"), "{err}");
    assert!(merged_config(Some("version = 2\n"), false, &[mirrors]).is_ok());
}

#[test]
fn the_snapshotter_is_read_where_the_config_version_keeps_it() {
    let own = include_str!("../../../images/node/containerd-config.toml");
    assert_eq!(snapshotter(own).as_deref(), Some("overlayfs"));
    let v3 = "version = 3\n[plugins.\"io.containerd.cri.v1.images\"]\nsnapshotter = \"native\"\n";
    assert_eq!(snapshotter(v3).as_deref(), Some("native"));
    assert_eq!(snapshotter("version = 2\n"), None);
    assert_eq!(snapshotter("not toml ["), None);
}
