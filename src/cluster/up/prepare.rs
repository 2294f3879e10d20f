//! The images a cluster runs, present on the Docker host before anything is made.

use crate::cluster::kubernetes;
use crate::config::{Config, IpMode, KubeVersion};
use crate::engine::docker::Engine;
use crate::engine::images::{self, ImageKind, ImageTags, NodeImage};
use crate::progress::Progress;
use crate::render::containerd;
use anyhow::{anyhow, bail, Result};
use futures_util::future::try_join_all;

/// Image tags a cluster uses. The host helper always runs dind's own node image, which
/// carries iproute2 and both iptables backends.
pub(super) struct Images {
    pub(super) dns64: String,
    pub(super) nat64: String,
    pub(super) node: String,
    pub(super) helper: String,
    pub(super) registry: String,
    /// The node image's kubeadm version; None without Kubernetes.
    pub(super) kubeadm: Option<KubeVersion>,
    /// The storage provisioner's image, when the node image carries it.
    pub(super) storage: Option<String>,
    /// The node image's containerd configuration with the registry's `config_path` and the
    /// user's patches merged in; None: the image's own stays.
    pub(super) containerd_config: Option<String>,
}

pub(super) async fn build_images(
    engine: &Engine,
    config: &Config,
    progress: &Progress,
) -> Result<Images> {
    let mut kinds = vec![ImageKind::NodeBase];
    if config.ip_mode == IpMode::Ipv6 {
        kinds.extend([ImageKind::Dns64, ImageKind::Nat64]);
    }
    if config.registry {
        kinds.push(ImageKind::Registry);
    }
    let node_image = tokio::task::block_in_place(|| NodeImage::for_config(config))?;
    let node = node_image.tag.clone();
    let kubeadm = progress
        .run("Preparing images", async |phase| {
            if node_image.build.is_none() && !images::exists(engine, &node).await? {
                bail!("node image {node} (--node-image / DIND_IMAGE) is not present on the Docker host; build or pull it first");
            }
            let specs = node_image.with_specs_of(&kinds);
            try_join_all(specs.iter().map(|spec| images::ensure(engine, spec, phase))).await?;
            let containerd_config = containerd_config(engine, config, &node).await?;
            if !config.kubernetes {
                return Ok((None, containerd_config));
            }
            let version = kubernetes::probe_kubeadm(engine, &node, config.cluster_id).await?;
            phase.message(&format!("kubeadm {version} in {node}"));
            Ok((Some(version), containerd_config))
        })
        .await?;
    let (kubeadm, containerd_config) = kubeadm;
    let recorded = match kubeadm {
        Some(_) => images::recorded_versions(engine, &node).await?,
        None => Default::default(),
    };
    if let Some(missing) = recorded.get(images::NOT_PRELOADED) {
        progress.note(&format!(
            "node image {node} carries no {}: containerd pulls them from their registry \
             when a pod needs them (on a machine without the Internet, put `docker save` \
             archives of them in the images/ directory of --kubernetes-from)",
            missing.replace(',', ", ")
        ));
    }
    let tags = ImageTags::with_node(node);
    Ok(Images {
        dns64: tags.dns64,
        nat64: tags.nat64,
        node: tags.node,
        helper: ImageKind::NodeBase.spec().tag,
        registry: tags.registry,
        kubeadm,
        storage: recorded.get(images::STORAGE_IMAGE).cloned(),
        containerd_config,
    })
}

/// The node image's containerd configuration with the registry and the patches merged in,
/// when the config asks for either.
async fn containerd_config(engine: &Engine, config: &Config, node: &str) -> Result<Option<String>> {
    let patches = &config.containerd_config_patches;
    if !containerd::changes_config(config.registry, patches) {
        return Ok(None);
    }
    let base = images::read_image_file(engine, node, containerd::CONFIG_PATH).await?;
    let base = base.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    containerd::merged_config(base.as_deref(), config.registry, patches)
        .map(Some)
        .map_err(|why| anyhow!("node image {node}: {why}"))
}
