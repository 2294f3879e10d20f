//! End to end: `dind load docker-image`, `dind load image-archive` and the local registry
//! (`--registry`), on a `--no-kubernetes` cluster whose node image runs Debian's containerd
//! (Kubernetes itself cannot be installed on these machines). Cluster ids 62-64.

use crate::support::*;
use dind::engine::docker::Engine;
use dind::engine::images::{ImageKind, ImageSpec};
use dind::progress::Progress;
use std::time::Duration;

const ID: u8 = 62;
/// 5001 + the cluster id.
const REGISTRY_PORT: u16 = 5063;
const APP: &str = "dind-e2e-load/app:1";
const OTHER: &str = "dind-e2e-load/other:1";

/// dind's network-plane node plus Debian's containerd and runc, containerd started before
/// dind's own entrypoint; its image store on a volume (overlayfs cannot sit on overlayfs).
async fn containerd_node_image(engine: &Engine) -> String {
    let base = ImageKind::NodeBase.spec();
    build(engine, &base).await;
    let dockerfile = format!(
        "FROM {}\n\
         RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends containerd runc \
             && rm -rf /var/lib/apt/lists/*\n\
         COPY e2e-containerd-node /usr/local/bin/e2e-containerd-node\n\
         VOLUME /var/lib/containerd\n\
         ENTRYPOINT [\"/usr/local/bin/e2e-containerd-node\"]\n",
        base.tag
    );
    let entrypoint = "#!/bin/sh\ncontainerd >/var/log/containerd.log 2>&1 &\nexec /usr/local/bin/dind-node-entrypoint\n";
    let spec = ImageSpec::new(
        "e2e-containerd-node",
        vec![
            ("Dockerfile".into(), dockerfile.into_bytes()),
            ("e2e-containerd-node".into(), entrypoint.as_bytes().to_vec()),
        ],
        None,
        Vec::new(),
    );
    build(engine, &spec).await;
    spec.tag
}

/// Two tiny images: busybox that prints a line, and a single file.
async fn app_images(engine: &Engine) {
    let app = "FROM debian:bookworm-slim AS busybox\n\
               RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static \
                   && rm -rf /var/lib/apt/lists/*\n\
               FROM scratch\n\
               COPY --from=busybox /bin/busybox /bin/busybox\n\
               CMD [\"/bin/busybox\", \"echo\", \"hello from app\"]\n";
    let mut spec = ImageSpec::new(
        "e2e-load-app",
        vec![("Dockerfile".into(), app.as_bytes().to_vec())],
        None,
        Vec::new(),
    );
    spec.tag = APP.to_string();
    build(engine, &spec).await;
    let other = "FROM scratch\nCOPY hello.txt /hello.txt\n";
    let mut spec = ImageSpec::new(
        "e2e-load-other",
        vec![
            ("Dockerfile".into(), other.as_bytes().to_vec()),
            ("hello.txt".into(), b"other\n".to_vec()),
        ],
        None,
        Vec::new(),
    );
    spec.tag = OTHER.to_string();
    build(engine, &spec).await;
}

async fn build(engine: &Engine, spec: &ImageSpec) {
    Progress::hidden()
        .run("build", async |phase| {
            dind::engine::images::ensure(engine, spec, phase).await
        })
        .await
        .unwrap_or_else(|e| panic!("image {} builds: {e:#}", spec.tag));
}

fn image_id(name: &str) -> String {
    sh(&["docker", "image", "inspect", "-f", "{{.Id}}", name])
        .expect("the image is on the host")
        .trim()
        .to_string()
}

async fn ctr(engine: &Engine, node: &str, args: &[&str]) -> dind::engine::docker::ExecOutput {
    let argv: Vec<&str> = ["ctr", "-n", "k8s.io"]
        .iter()
        .chain(args)
        .copied()
        .collect();
    engine.exec(node, &argv).await.expect("exec in the node")
}

/// The digests containerd holds for `name` in `node`: the image's target (a manifest, or on
/// Docker 29's containerd store an index) and, for a manifest, its config.
async fn node_image_digests(engine: &Engine, node: &str, name: &str) -> Vec<String> {
    let list = ctr(engine, node, &["images", "ls"]).await;
    assert!(list.success(), "ctr images ls in {node}: {}", list.stderr);
    let Some(line) = list
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
    else {
        return Vec::new();
    };
    let target = line.split_whitespace().nth(2).expect("a digest column");
    let content = ctr(engine, node, &["content", "get", target]).await;
    let json: serde_json::Value = serde_json::from_str(&content.stdout).expect("JSON");
    let mut digests = vec![target.to_string()];
    digests.extend(json["config"]["digest"].as_str().map(str::to_string));
    digests
}

/// Docker's image id is what the node holds for `name`: its config's digest where Docker
/// keeps images itself (the id is the config's), the image's own digest where containerd
/// keeps them (Docker 29's default: the id is the manifest's or index's).
async fn holds_docker_image(engine: &Engine, node: &str, name: &str, id: &str) -> bool {
    node_image_digests(engine, node, name)
        .await
        .iter()
        .any(|d| d == id)
}

fn load(args: &[&str]) -> std::process::Output {
    let id = ID.to_string();
    let mut argv = vec!["load"];
    argv.extend_from_slice(args);
    argv.extend(["--cluster-id", &id]);
    dind(&argv, &[])
}

#[tokio::test(flavor = "multi_thread")]
async fn images_reach_every_nodes_containerd_by_load_and_by_the_registry() {
    let _serial = serial().await;
    let engine = engine().await;
    let node_image = containerd_node_image(&engine).await;
    app_images(&engine).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cluster.yaml");
    std::fs::write(
        &config,
        "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnodes: 1\ncontainerdConfigPatches:\n- |\n  \
         [plugins.\"io.containerd.grpc.v1.cri\"]\n  max_concurrent_downloads = 7\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let settings = [
        "--nat64-v4-prefix",
        "10.100",
        "--node-image",
        &node_image,
        "--registry",
        "--config",
        config,
    ];
    let cluster =
        Cluster::up(ID, &settings).expect("dind up --registry with the containerd node image");
    let nodes = [cluster.name("kube-master"), cluster.name("kube-node-1")];
    for node in &nodes {
        wait_for(
            &format!("containerd in {node}"),
            Duration::from_secs(30),
            async || {
                let out = ctr(&engine, node, &["version"]).await;
                Ok(if out.success() {
                    Check::Done(())
                } else {
                    Check::NotYet(out.stderr)
                })
            },
        )
        .await
        .unwrap();
        // The node image's config.toml with the registry's config_path and the patch merged.
        let dump = engine
            .exec_ok(node, &["containerd", "config", "dump"])
            .await
            .unwrap();
        assert!(
            dump.contains("config_path = \"/etc/containerd/certs.d\""),
            "{dump}"
        );
        assert!(dump.contains("max_concurrent_downloads = 7"), "{dump}");
    }

    // docker-image: into every node, under containerd's name, with Docker's image id as
    // its config digest.
    let out = load(&["docker-image", APP]);
    assert!(out.status.success(), "{}", stderr(&out));
    // One export, one import per node, each a phase.
    assert!(
        stderr(&out).contains("Exporting 1 image(s) from Docker: done in"),
        "{}",
        stderr(&out)
    );
    for node in &nodes {
        assert!(
            stderr(&out).contains(&format!("Loading into {node}: done in")),
            "{}",
            stderr(&out)
        );
    }
    let app_ref = format!("docker.io/{APP}");
    for node in &nodes {
        assert!(
            stdout(&out).contains(&format!("{node}: loaded {app_ref}")),
            "{}",
            stdout(&out)
        );
        assert!(
            holds_docker_image(&engine, node, &app_ref, &image_id(APP)).await,
            "{node} holds {:?} for {app_ref}, Docker's id is {}",
            node_image_digests(&engine, node, &app_ref).await,
            image_id(APP)
        );
    }
    // A second load finds it everywhere and imports nothing.
    let again = load(&["docker-image", APP]);
    assert!(again.status.success(), "{}", stderr(&again));
    for node in &nodes {
        assert!(
            stdout(&again).contains(&format!(
                "{node}: skipped {app_ref}, already present with the same digest ({})",
                image_id(APP)
            )),
            "{}",
            stdout(&again)
        );
    }
    assert!(!stdout(&again).contains("loaded"), "{}", stdout(&again));
    // Nothing to import: nothing was exported either.
    assert!(!stderr(&again).contains("Exporting"), "{}", stderr(&again));

    // image-archive, into one node only.
    let archive = dir.path().join("other.tar");
    sh(&["docker", "save", "-o", archive.to_str().unwrap(), OTHER]).unwrap();
    let out = load(&[
        "image-archive",
        archive.to_str().unwrap(),
        "--nodes",
        &nodes[1],
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let other_ref = format!("docker.io/{OTHER}");
    assert_eq!(
        stdout(&out).trim(),
        format!("{}: loaded {other_ref}", nodes[1])
    );
    assert!(holds_docker_image(&engine, &nodes[1], &other_ref, &image_id(OTHER)).await);
    assert_eq!(
        node_image_digests(&engine, &nodes[0], &other_ref).await,
        Vec::<String>::new()
    );

    // The registry: pushed on the host to localhost:PORT, pulled in a node by that name
    // through the hosts.toml dind wrote.
    let pushed = format!("localhost:{REGISTRY_PORT}/{APP}");
    sh(&["docker", "tag", APP, &pushed]).unwrap();
    let push = sh(&["docker", "push", &pushed]);
    sh(&["docker", "rmi", &pushed]).unwrap();
    push.expect("docker push to the cluster's registry");
    let pull = ctr(
        &engine,
        &nodes[0],
        &[
            "images",
            "pull",
            "--hosts-dir",
            "/etc/containerd/certs.d",
            &pushed,
        ],
    )
    .await;
    assert!(pull.success(), "{}{}", pull.stdout, pull.stderr);
    assert!(
        holds_docker_image(&engine, &nodes[0], &pushed, &image_id(APP)).await,
        "{:?}, Docker's id {}",
        node_image_digests(&engine, &nodes[0], &pushed).await,
        image_id(APP)
    );

    // A container of a loaded image, where the machine's nested cgroups allow it.
    let run = ctr(
        &engine,
        &nodes[0],
        &["run", "--rm", &format!("docker.io/{APP}"), "dind-e2e-load"],
    )
    .await;
    if run.success() {
        assert!(run.stdout.contains("hello from app"), "{}", run.stdout);
    } else {
        assert!(
            run.stderr.contains("cgroup"),
            "ctr run failed otherwise: {}",
            run.stderr
        );
        eprintln!("ctr run in a --no-kubernetes node: {}", run.stderr.trim());
    }

    // A second `up` finds the registry running and changes nothing.
    let id = ID.to_string();
    let again = dind(&up_args(&id, &settings), &[]);
    assert!(again.status.success(), "{}", stderr(&again));

    // status lists the registry; a stopped node is refused by name.
    let status = dind(&["status", "--cluster-id", &ID.to_string()], &[]);
    let registry = cluster.name("dind-registry");
    assert!(stdout(&status).contains(&registry), "{}", stdout(&status));
    assert!(
        stdout(&status).contains(&format!("registry localhost:{REGISTRY_PORT}: `docker push")),
        "{}",
        stdout(&status)
    );
    sh(&["docker", "stop", "-t", "1", &nodes[1]]).unwrap();
    let refused = load(&["docker-image", APP, "--nodes", &nodes[1]]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains(&format!("node {} of cluster {ID} is not running", nodes[1])),
        "{}",
        stderr(&refused)
    );

    let down = cluster.down();
    assert!(down.status.success(), "{}", stderr(&down));
    let left = sh(&[
        "docker",
        "ps",
        "-a",
        "-q",
        "--filter",
        &format!("label=io.github.dind.cluster={ID}"),
    ])
    .unwrap();
    assert_eq!(left.trim(), "", "containers left by down");
    assert!(engine.inspect_container(&registry).await.unwrap().is_none());
}

/// `out`'s stderr holds `fragment`.
fn assert_stderr_has(out: &std::process::Output, fragment: &str) {
    assert!(stderr(out).contains(fragment), "{}", stderr(out));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_loads_name_what_is_wrong_and_the_fix() {
    let _serial = serial().await;
    let engine = engine().await;
    let node_image = containerd_node_image(&engine).await;
    app_images(&engine).await;
    // No cluster 63 here.
    let out = dind(&["load", "docker-image", APP, "--cluster-id", "63"], &[]);
    assert!(!out.status.success());
    assert_stderr_has(
        &out,
        "no dind cluster 63 here; `dind up --cluster-id 63` creates it",
    );
    let missing = "/nonexistent/images.tar";
    let out = dind(
        &["load", "image-archive", missing, "--cluster-id", "63"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing archive is invalid input"
    );
    assert_stderr_has(&out, &format!("image archive {missing} does not exist"));
    let cluster = Cluster::up(
        63,
        &[
            "--nat64-v4-prefix",
            "10.100",
            "--nodes",
            "0",
            "--node-image",
            &node_image,
        ],
    )
    .expect("dind up");
    let out = dind(
        &[
            "load",
            "docker-image",
            "dind-e2e-load/absent:1",
            "--cluster-id",
            "63",
        ],
        &[],
    );
    assert_stderr_has(
        &out,
        "image dind-e2e-load/absent:1 is not on the Docker host; `docker pull",
    );
    let out = dind(
        &[
            "load",
            "docker-image",
            APP,
            "--nodes",
            "kube-node-7",
            "--cluster-id",
            "63",
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown node is invalid input"
    );
    assert_stderr_has(
        &out,
        &format!(
            "kube-node-7 is not a node of dind cluster 63; its nodes are {}",
            cluster.name("kube-master")
        ),
    );
    drop(cluster);
}
