use super::*;
use crate::test_support::config_from_env;

#[test]
fn names_are_normalized_as_containerd_names_them() {
    assert_eq!(normalize("app"), "docker.io/library/app:latest");
    assert_eq!(normalize("app:1"), "docker.io/library/app:1");
    assert_eq!(normalize("me/app"), "docker.io/me/app:latest");
    assert_eq!(normalize("localhost:5001/app"), "localhost:5001/app:latest");
    assert_eq!(normalize("registry.test/a/b:2"), "registry.test/a/b:2");
    assert_eq!(
        normalize("app@sha256:abc"),
        "docker.io/library/app@sha256:abc"
    );
}

#[test]
fn ctr_image_lists_give_each_name_its_digest() {
    let text = "REF                                  TYPE                                                 DIGEST                                                                  SIZE    PLATFORMS   LABELS\n\
docker.io/library/app:1 application/vnd.docker.distribution.manifest.v2+json sha256:51a3 1.9 MiB linux/amd64 io.cri-containerd.image=managed\n\
sha256:f3a6 application/vnd.docker.distribution.manifest.v2+json sha256:51a3 1.9 MiB linux/amd64 -\n";
    let list = parse_image_list(text);
    assert_eq!(list["docker.io/library/app:1"], "sha256:51a3");
    assert_eq!(list.len(), 2);
    assert!(parse_image_list("REF TYPE DIGEST SIZE PLATFORMS LABELS\n").is_empty());
}

#[test]
fn a_manifest_names_its_config_and_an_index_does_not() {
    let manifest = r#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:aa","size":1},"layers":[]}"#;
    assert_eq!(manifest_config(manifest).as_deref(), Some("sha256:aa"));
    assert_eq!(manifest_config(r#"{"manifests":[]}"#), None);
    assert_eq!(manifest_config("not json"), None);
}

#[test]
fn nodes_are_chosen_by_their_container_names_and_unknown_ones_are_named() {
    let plan = crate::plan::plan(&config_from_env(&[
        ("CLUSTER_ID", "62"),
        ("NUM_NODES", "2"),
        ("NAT64_V4_SUBNET_PREFIX", "10.100"),
    ]));
    assert_eq!(
        select_nodes(&plan, None).unwrap(),
        [
            "kube-master-cluster-62",
            "kube-node-1-cluster-62",
            "kube-node-2-cluster-62"
        ]
    );
    let only = vec![
        "kube-node-2-cluster-62".to_string(),
        "kube-node-2-cluster-62".into(),
    ];
    assert_eq!(
        select_nodes(&plan, Some(&only)).unwrap(),
        ["kube-node-2-cluster-62"]
    );
    let err = select_nodes(&plan, Some(&["kube-node-9".to_string()]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "kube-node-9 is not a node of dind cluster 62; its nodes are kube-master-cluster-62, "
        ),
        "{err}"
    );
    assert!(select_nodes(&plan, Some(&[" ".to_string()])).is_err());
}

fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut archive = tar::Builder::new(Vec::new());
    for (name, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(&mut header, name, contents.as_bytes())
            .unwrap();
    }
    archive.into_inner().unwrap()
}

#[test]
fn a_docker_save_archive_names_its_images_and_config_digests() {
    let hex = "f3a6603d3a309af4be65c22df2abb29280b3b64e8f13ecc3f94623cebfe2f083";
    let old = format!(r#"[{{"Config":"{hex}.json","RepoTags":["app:1","me/app"],"Layers":[]}}]"#);
    let images = archive_images(tar_of(&[("manifest.json", &old)]).as_slice()).unwrap();
    assert_eq!(
        images,
        [Wanted {
            refs: vec![
                "docker.io/library/app:1".into(),
                "docker.io/me/app:latest".into()
            ],
            digest: Some(format!("sha256:{hex}")),
        }]
    );
    let new = format!(r#"[{{"Config":"blobs/sha256/{hex}","RepoTags":null,"Layers":[]}}]"#);
    let images =
        archive_images(tar_of(&[("index.json", "{}"), ("manifest.json", &new)]).as_slice())
            .unwrap();
    assert_eq!(images[0].digest, Some(format!("sha256:{hex}")));
    assert!(images[0].refs.is_empty());
    // An OCI layout alone: loaded, never skipped.
    let oci = archive_images(tar_of(&[("index.json", "{}")]).as_slice()).unwrap();
    assert_eq!(oci[0].digest, None);
    let err = archive_images(tar_of(&[("x", "y")]).as_slice()).unwrap_err();
    assert!(
        err.to_string()
            .contains("neither manifest.json nor index.json"),
        "{err}"
    );
}

#[test]
fn the_outcome_says_what_was_loaded_and_what_skipped() {
    let text = render_outcomes(&[NodeOutcome {
        node: "kube-master".into(),
        loaded: vec!["docker.io/library/a:1".into()],
        skipped: vec![("docker.io/library/b:1".into(), "sha256:bb".into())],
    }]);
    assert_eq!(
        text,
        "kube-master: loaded docker.io/library/a:1\n\
         kube-master: skipped docker.io/library/b:1, already present with the same digest (sha256:bb)\n"
    );
}

#[test]
fn the_import_takes_one_platform_or_all_and_the_nodes_snapshotter() {
    assert_eq!(
        import_argv(None, Some("overlayfs")).join(" "),
        "ctr --namespace=k8s.io images import --digests --all-platforms --snapshotter=overlayfs -"
    );
    assert_eq!(
        import_argv(Some("linux/amd64"), None).join(" "),
        "ctr --namespace=k8s.io images import --digests --platform=linux/amd64 -"
    );
}
