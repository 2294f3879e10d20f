//! End to end: the parts of the Kubernetes node image that run without Kubernetes packages
//! (which these machines cannot fetch). Needs a Docker daemon (`bash .ci/setup`).

use crate::support::*;
use dind::engine::images::ImageSpec;
use dind::progress::Progress;

const PAUSE: &str = "registry.k8s.io/pause:3.10.1";

/// containerd (Debian's, 1.6) loads the node image's configuration as the image's build
/// completes it, with the systemd cgroup driver and kubeadm's pause image as the sandbox.
#[tokio::test(flavor = "multi_thread")]
async fn containerd_loads_the_node_images_configuration() {
    let _serial = serial().await;
    let engine = engine().await;
    let config = include_str!("../../images/node/containerd-config.toml");
    let dockerfile = format!(
        "FROM debian:bookworm-slim\n\
         RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends containerd \
             && rm -rf /var/lib/apt/lists/*\n\
         COPY containerd-config.toml /etc/containerd/config.toml\n\
         RUN sed -i 's|@SANDBOX_IMAGE@|{PAUSE}|' /etc/containerd/config.toml\n"
    );
    let spec = ImageSpec::new(
        "e2e-containerd",
        vec![
            ("Dockerfile".to_string(), dockerfile.into_bytes()),
            (
                "containerd-config.toml".to_string(),
                config.as_bytes().to_vec(),
            ),
        ],
        None,
        Vec::new(),
    );
    Progress::hidden()
        .run("build", async |phase| {
            dind::engine::images::ensure(&engine, &spec, phase).await
        })
        .await
        .expect("an image with Debian's containerd builds");
    let out = run_once(
        &engine,
        &spec.tag,
        &[
            "containerd",
            "--config",
            "/etc/containerd/config.toml",
            "config",
            "dump",
        ],
    )
    .await;
    assert!(out.contains("SystemdCgroup = true"), "{out}");
    assert!(
        out.contains(&format!("sandbox_image = \"{PAUSE}\"")),
        "{out}"
    );
    assert!(out.contains("snapshotter = \"overlayfs\""), "{out}");
    // Where dind-pod and the kubelet's CNI calls find plugins and configs: the defaults.
    assert!(out.contains("bin_dir = \"/opt/cni/bin\""), "{out}");
    assert!(out.contains("conf_dir = \"/etc/cni/net.d\""), "{out}");
    assert!(!out.contains("level=error"), "{out}");
}

/// Runs `argv` in a throwaway container of `image` and returns its output.
async fn run_once(engine: &dind::engine::docker::Engine, image: &str, argv: &[&str]) -> String {
    let spec = dind::render::containers::ContainerSpec {
        image: image.to_string(),
        cmd: Some(argv.iter().map(|s| s.to_string()).collect()),
        network: dind::render::containers::Network::None,
        ..Default::default()
    };
    engine
        .run_to_end(&spec, argv[0])
        .await
        .expect("the container runs to its end")
        .1
}
