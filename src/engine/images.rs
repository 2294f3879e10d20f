//! The images dind builds itself (DNS64, NAT64, node), embedded in the binary so `dind` can
//! build them on any Docker host. Tags carry a hash of the build context: a changed
//! Dockerfile gets a new tag, an unchanged one is never rebuilt.

use crate::config::KubeVersion;
use crate::engine::docker::{indent, Engine};
use crate::engine::error::{kind, ErrorKind};
use crate::engine::kit::Kit;
use crate::exit::InvalidInput;
use crate::labels;
use crate::progress::Phase;
use crate::render::containers::image_file_probe;
use anyhow::{bail, Context, Result};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CreateImageOptionsBuilder, ListImagesOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use futures_util::StreamExt;
use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;

static IMAGES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/images");

/// Shared files copied into every build context.
const COMMON_DIR: &str = "common";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Dns64,
    Nat64,
    /// The node image's `base` target: network plane only.
    NodeBase,
    /// The node image's `kubernetes` target, for one Kubernetes version.
    NodeKubernetes(KubeVersion),
    /// The local registry (`--registry`).
    Registry,
}

impl ImageKind {
    /// dind's own node image for `config`: with Kubernetes of its version, or the base.
    pub(crate) fn own_node(config: &crate::config::Config) -> ImageKind {
        match config.kubernetes {
            true => ImageKind::NodeKubernetes(config.kubernetes_version),
            false => ImageKind::NodeBase,
        }
    }

    /// The images that need nothing from outside Debian's mirror.
    pub const NETWORK_PLANE: [ImageKind; 3] =
        [ImageKind::Dns64, ImageKind::Nat64, ImageKind::NodeBase];

    pub(crate) fn name(self) -> &'static str {
        match self {
            ImageKind::Dns64 => "dns64",
            ImageKind::Nat64 => "nat64",
            ImageKind::NodeBase => "node-base",
            ImageKind::NodeKubernetes(_) => "node",
            ImageKind::Registry => "registry",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            ImageKind::Dns64 => "dns64",
            ImageKind::Nat64 => "nat64",
            ImageKind::NodeBase | ImageKind::NodeKubernetes(_) => "node",
            ImageKind::Registry => "registry",
        }
    }

    fn target(self) -> Option<&'static str> {
        match self {
            ImageKind::NodeBase => Some("base"),
            ImageKind::NodeKubernetes(_) => Some("kubernetes"),
            _ => None,
        }
    }

    fn build_args(self) -> Vec<(String, String)> {
        match self {
            ImageKind::NodeKubernetes(version) => vec![
                ("KUBERNETES_MINOR".into(), version.minor_tag()),
                (
                    "KUBERNETES_PATCH".into(),
                    version
                        .patch
                        .map(|_| version.to_string())
                        .unwrap_or_default(),
                ),
            ],
            _ => Vec::new(),
        }
    }

    pub fn spec(self) -> ImageSpec {
        let files = embedded_context(self.dir());
        let mut spec = ImageSpec::new(self.name(), files, self.target(), self.build_args());
        if let ImageKind::NodeKubernetes(version) = self {
            // The version in the tag tells images apart at a glance.
            spec.tag = spec.tag.replacen(':', &format!(":{version}-"), 1);
        }
        spec
    }
}

/// The files of `images/DIR` and `images/common`, by name.
fn embedded_context(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in [dir, COMMON_DIR] {
        let dir = IMAGES.get_dir(dir).expect("image directories are embedded");
        for file in dir.files() {
            let name = file
                .path()
                .file_name()
                .expect("files have names")
                .to_string_lossy()
                .into_owned();
            files.push((name, file.contents().to_vec()));
        }
    }
    files
}

/// The node image's target that takes Kubernetes from the build context's `kit/`.
const KIT_TARGET: &str = "kubernetes-from";
/// Its stage, kept apart from the node's Dockerfile: the classic builder builds every stage
/// before the one it is asked for, and the Internet's `kubernetes` stage must not be one.
const KIT_DOCKERFILE: &str = "Dockerfile.kubernetes-from";
/// Where the node's Dockerfile starts the Internet's stage.
const INTERNET_STAGE: &str = "FROM systemd AS kubernetes\n";

/// The node's stages up to `systemd`, then the kit's.
fn kit_dockerfile(node: &str, kit_stage: &str) -> String {
    let end = node
        .find(INTERNET_STAGE)
        .expect("the node's Dockerfile has the Internet's stage");
    format!("{}\n{kit_stage}", node[..end].trim_end())
}

/// dind's node image with the Kubernetes of `kit` (`--kubernetes-from`), tagged
/// `dind/node:VERSION-from-HASH`: the hash covers the kit's files, so another kit of the
/// same version is another image.
pub fn kit_node(kit: &Kit) -> Result<ImageSpec> {
    let name = ImageKind::NodeBase.name();
    let mut files = embedded_context(ImageKind::NodeBase.dir());
    let stages = |name: &str| {
        let (_, text) = files
            .iter()
            .find(|(file, _)| file == name)
            .expect("the node image's Dockerfiles are embedded");
        String::from_utf8_lossy(text).into_owned()
    };
    let dockerfile = kit_dockerfile(&stages("Dockerfile"), &stages(KIT_DOCKERFILE));
    files.retain(|(file, _)| file != "Dockerfile");
    files.push(("Dockerfile".to_string(), dockerfile.into_bytes()));
    let mut spec = ImageSpec::with_disk_files(
        "node",
        files,
        kit.files.clone(),
        Some(KIT_TARGET),
        Vec::new(),
    )
    .with_context(|| format!("cannot read the files of --kubernetes-from for the {name} image"))?;
    spec.tag = spec
        .tag
        .replacen(':', &format!(":{}-from-", kit.version), 1);
    Ok(spec)
}

/// The node image a cluster runs, and how dind gets it.
pub struct NodeImage {
    pub tag: String,
    /// What to build when the tag is absent; None for the user's own (--node-image).
    pub build: Option<ImageSpec>,
    /// The files `build` reads (a tarball unpacked for it), kept until it is built.
    _kit: Option<Kit>,
}

impl NodeImage {
    /// The one `config` names, else dind's own: from `--kubernetes-from`'s files (read
    /// here, every byte of them, for the tag), from the Internet, or the base target.
    pub fn for_config(config: &crate::config::Config) -> Result<NodeImage> {
        if let Some(image) = &config.node_image {
            return Ok(NodeImage {
                tag: image.clone(),
                build: None,
                _kit: None,
            });
        }
        let (spec, kit) = match &config.kubernetes_from {
            Some(path) => {
                let kit = Kit::open(path).map_err(InvalidInput::wrap)?;
                (kit_node(&kit)?, Some(kit))
            }
            None => (ImageKind::own_node(config).spec(), None),
        };
        Ok(NodeImage {
            tag: spec.tag.clone(),
            build: Some(spec),
            _kit: kit,
        })
    }

    /// What to build for a cluster: the images of `kinds`, then this node image when dind
    /// builds it and it is not one of them.
    pub(crate) fn with_specs_of(&self, kinds: &[ImageKind]) -> Vec<ImageSpec> {
        let mut specs: Vec<_> = kinds.iter().map(|kind| kind.spec()).collect();
        let own_node = self.build.clone();
        specs.extend(own_node.filter(|own| specs.iter().all(|s| s.tag != own.tag)));
        specs
    }
}

/// The image each of a cluster's containers runs.
#[derive(Clone, Debug)]
pub(crate) struct ImageTags {
    pub(crate) dns64: String,
    pub(crate) nat64: String,
    pub(crate) node: String,
    pub(crate) registry: String,
}

impl ImageTags {
    /// dind's own DNS64, NAT64 and registry images, and `node` for the nodes.
    pub(crate) fn with_node(node: String) -> ImageTags {
        ImageTags {
            dns64: ImageKind::Dns64.spec().tag,
            nat64: ImageKind::Nat64.spec().tag,
            node,
            registry: ImageKind::Registry.spec().tag,
        }
    }
}

/// A build context and the tag derived from it.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub kind: String,
    pub tag: String,
    pub(crate) target: Option<String>,
    pub(crate) build_args: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
    /// Files of this machine, read when the context is sent (a kit's programs and image
    /// archives, too big to hold in memory), by context path.
    disk_files: Vec<(String, PathBuf)>,
}

impl ImageSpec {
    pub fn new(
        kind: &str,
        files: Vec<(String, Vec<u8>)>,
        target: Option<&str>,
        build_args: Vec<(String, String)>,
    ) -> ImageSpec {
        ImageSpec::with_disk_files(kind, files, Vec::new(), target, build_args)
            .expect("no file of this machine to read")
    }

    /// A spec whose context also holds files of this machine; their contents make the tag
    /// as the embedded files' do, so reading them can fail.
    pub(crate) fn with_disk_files(
        kind: &str,
        mut files: Vec<(String, Vec<u8>)>,
        mut disk_files: Vec<(String, PathBuf)>,
        target: Option<&str>,
        build_args: Vec<(String, String)>,
    ) -> std::io::Result<ImageSpec> {
        files.sort();
        disk_files.sort();
        let mut hash = Sha256::new();
        for (name, contents) in &files {
            hash_file_header(&mut hash, name, contents.len() as u64);
            hash.update(contents);
        }
        for (name, path) in &disk_files {
            let mut file = std::fs::File::open(path)?;
            hash_file_header(&mut hash, name, file.metadata()?.len());
            std::io::copy(&mut file, &mut hash)?;
        }
        hash.update(target.unwrap_or("").as_bytes());
        for (name, value) in &build_args {
            hash.update([0]);
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update(value.as_bytes());
        }
        let digest = hash.finalize();
        let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Ok(ImageSpec {
            kind: kind.to_string(),
            tag: format!("dind/{kind}:{short}"),
            target: target.map(str::to_string),
            build_args,
            files,
            disk_files,
        })
    }

    /// The Kubernetes node images write VERSIONS_PATH; their labels carry them.
    fn records_versions(&self) -> bool {
        matches!(self.target.as_deref(), Some("kubernetes" | KIT_TARGET))
    }

    /// Writes the build context as a tar archive: fixed times and modes, so the same files
    /// make the same context. Scripts and programs are executable.
    fn write_context(&self, out: impl std::io::Write) -> std::io::Result<()> {
        let mut archive = tar::Builder::new(out);
        let header = |size: u64, executable: bool| {
            let mut header = tar::Header::new_gnu();
            header.set_size(size);
            header.set_mode(if executable { 0o755 } else { 0o644 });
            header.set_mtime(0);
            header.set_cksum();
            header
        };
        for (name, contents) in &self.files {
            let mut header = header(contents.len() as u64, contents.starts_with(b"#!"));
            archive.append_data(&mut header, name, contents.as_slice())?;
        }
        for (name, path) in &self.disk_files {
            let file = std::fs::File::open(path)?;
            let executable = !name.ends_with(".tar");
            let mut header = header(file.metadata()?.len(), executable);
            archive.append_data(&mut header, name, file)?;
        }
        archive.into_inner()?.flush()
    }

    /// The build context as a stream, written by a thread of its own as Docker reads it.
    fn context_stream(
        &self,
    ) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let spec = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = ChunkSender::new(sender.clone());
            if let Err(e) = spec.write_context(&mut out) {
                let _ = sender.blocking_send(Err(e));
            }
        });
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        })
    }
}

fn hash_file_header(hash: &mut Sha256, name: &str, size: u64) {
    hash.update(name.as_bytes());
    hash.update([0]);
    hash.update(size.to_le_bytes());
}

/// Sends what is written in chunks of up to [`ChunkSender::CHUNK`] bytes.
struct ChunkSender {
    sender: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
}

impl ChunkSender {
    const CHUNK: usize = 1 << 20;

    fn new(sender: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>) -> ChunkSender {
        ChunkSender {
            sender,
            buffer: Vec::with_capacity(Self::CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(Self::CHUNK));
        self.sender
            .blocking_send(Ok(chunk.into()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the build ended"))
    }
}

impl std::io::Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = Self::CHUNK - self.buffer.len();
        let taken = data.len().min(room);
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == Self::CHUNK {
            self.send()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

pub async fn exists(engine: &Engine, tag: &str) -> Result<bool> {
    Ok(image_labels(engine, tag).await?.is_some())
}

/// The labels of image `tag`; None when there is no such image.
pub(crate) async fn image_labels(
    engine: &Engine,
    tag: &str,
) -> Result<Option<HashMap<String, String>>> {
    match engine.api().inspect_image(tag).await {
        Ok(inspect) => Ok(Some(
            inspect.config.and_then(|c| c.labels).unwrap_or_default(),
        )),
        Err(e) if kind(&e) == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot inspect image {tag}")),
    }
}

/// The image every one of dind's images is built `FROM`.
pub(crate) const BASE_IMAGE: &str = "debian:bookworm-slim";

/// An image with `cat` for a cluster's lock, before anything is built: the base of dind's
/// images (`clean` never removes it), else one of dind's own, else the base pulled, as the
/// first build would pull it.
pub(crate) async fn lock_image(engine: &Engine) -> Result<String> {
    let own = ImageKind::NETWORK_PLANE.map(|kind| kind.spec().tag);
    for tag in std::iter::once(BASE_IMAGE.to_string()).chain(own) {
        if exists(engine, &tag).await? {
            return Ok(tag);
        }
    }
    pull(engine, BASE_IMAGE).await?;
    Ok(BASE_IMAGE.to_string())
}

async fn pull(engine: &Engine, image: &str) -> Result<()> {
    let options = CreateImageOptionsBuilder::default()
        .from_image(image)
        .build();
    let mut stream = engine.api().create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        item.with_context(|| format!("cannot pull image {image}"))?;
    }
    Ok(())
}

/// Where the Kubernetes node image records the package versions its build resolved.
pub(crate) const VERSIONS_PATH: &str = "/etc/dind/image-versions";
/// The prefix of the image labels that carry those versions (`...kubeadm=v1.36.4`).
pub const VERSION_LABEL_PREFIX: &str = "io.github.dind.version.";

/// Builds `spec` unless its tag is present; progress lines go to `phase`.
pub async fn ensure(engine: &Engine, spec: &ImageSpec, phase: &Phase) -> Result<()> {
    if exists(engine, &spec.tag).await? {
        return Ok(());
    }
    build(engine, spec, phase).await
}

/// Builds `spec`. An image that records its resolved versions (the Kubernetes node) is built
/// under a temporary tag first, and gets its tag only with the version labels on it.
pub async fn build(engine: &Engine, spec: &ImageSpec, phase: &Phase) -> Result<()> {
    if !spec.records_versions() {
        return build_as(engine, spec, &spec.tag, phase).await;
    }
    let unlabelled = format!("{}-unlabelled", spec.tag);
    build_as(engine, spec, &unlabelled, phase).await?;
    let text = read_image_file(engine, &unlabelled, VERSIONS_PATH)
        .await?
        .with_context(|| format!("image {unlabelled} has no {VERSIONS_PATH}"))?;
    let versions = parse_versions(&String::from_utf8_lossy(&text));
    let dockerfile = label_dockerfile(&unlabelled, &versions);
    let labelled = ImageSpec {
        target: None,
        build_args: Vec::new(),
        files: vec![("Dockerfile".to_string(), dockerfile.into_bytes())],
        ..spec.clone()
    };
    build_as(engine, &labelled, &spec.tag, phase).await?;
    let untag = RemoveImageOptionsBuilder::default().noprune(true).build();
    engine
        .api()
        .remove_image(&unlabelled, Some(untag), None)
        .await
        .with_context(|| format!("cannot untag {unlabelled}"))?;
    Ok(())
}

/// `name=version` lines, in their order; anything else is skipped.
pub(crate) fn parse_versions(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (name, version) = line.trim().split_once('=')?;
            let valid = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.:_~/,".contains(&b))
            };
            (valid(name) && valid(version)).then(|| (name.to_string(), version.to_string()))
        })
        .collect()
}

fn label_dockerfile(base: &str, versions: &[(String, String)]) -> String {
    let mut text = format!("FROM {base}\n");
    for (name, version) in versions {
        text.push_str(&format!(
            "LABEL \"{VERSION_LABEL_PREFIX}{name}\"=\"{version}\"\n"
        ));
    }
    text
}

/// What a Kubernetes node image's versions name besides versions: the storage
/// provisioner's image it carries, and the images kubeadm names that it does not.
pub(crate) const STORAGE_IMAGE: &str = "storage";
pub(crate) const NOT_PRELOADED: &str = "not-preloaded";

/// The versions image `tag` records in its labels; none when it records none.
pub(crate) async fn recorded_versions(
    engine: &Engine,
    tag: &str,
) -> Result<std::collections::BTreeMap<String, String>> {
    let labels = image_labels(engine, tag).await?.unwrap_or_default();
    Ok(versions_from_labels(&labels).into_iter().collect())
}

/// The versions an image's labels carry, in name order.
pub(crate) fn versions_from_labels(labels: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut versions: Vec<(String, String)> = labels
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(VERSION_LABEL_PREFIX)?.to_string(), v.clone())))
        .collect();
    versions.sort();
    versions
}

/// A file of `image`, read from a container that is created for it and never started.
pub(crate) async fn read_image_file(
    engine: &Engine,
    image: &str,
    path: &str,
) -> Result<Option<Vec<u8>>> {
    let id = engine.create(&image_file_probe(image)).await?;
    let contents = engine.read_file(&id, path).await;
    engine.remove_container(&id).await?;
    contents
}

/// Builds `spec`'s context and tags the result `tag`.
async fn build_as(engine: &Engine, spec: &ImageSpec, tag: &str, phase: &Phase) -> Result<()> {
    let labels = HashMap::from([(labels::IMAGE.to_string(), spec.kind.clone())]);
    let build_args: HashMap<String, String> = spec.build_args.iter().cloned().collect();
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .labels(&labels)
        .buildargs(&build_args)
        .version(BuilderVersion::BuilderV1);
    if let Some(target) = &spec.target {
        options = options.target(target);
    }
    let mut stream = engine.api().build_image(
        options.build(),
        None,
        Some(bollard::body_try_stream(spec.context_stream())),
    );
    let mut log: Vec<String> = Vec::new();
    let failed = |log: &[String], error: &str| {
        let mut text = build_failure(&spec.tag, log, error);
        if spec.target.as_deref() == Some("kubernetes") {
            text.push_str(OFFLINE_WAYS_ON);
        }
        anyhow::anyhow!(text)
    };
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            // How bollard hands over the builder's errorDetail.
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(failed(&log, &error));
            }
            Err(e) => return Err(e).with_context(|| format!("building image {tag} failed")),
        };
        if let Some(line) = info.stream.as_deref().and_then(build_output) {
            let line = line.as_str();
            phase.message(&format!("{}: {}", spec.kind, line.trim()));
            for line in line.lines() {
                phase.output(&spec.kind, line);
            }
            log.push(line.to_string());
        }
        if let Some(detail) = info.error_detail {
            return Err(failed(&log, &detail.message.unwrap_or_default()));
        }
    }
    if !exists(engine, tag).await? {
        bail!("building image {tag} ended without producing it");
    }
    Ok(())
}

/// A `stream` item of the builder as plain text, without its trailing newline; None for an
/// empty one. The builder colours a step's stderr red.
fn build_output(stream: &str) -> Option<String> {
    let plain = console::strip_ansi_codes(stream);
    let plain = plain.trim_end();
    (!plain.trim().is_empty()).then(|| plain.to_string())
}

/// Lines of a failed build step's output its error shows.
const FAILED_STEP_TAIL: usize = 12;
/// The longest instruction a build error quotes.
const INSTRUCTION_SHOWN: usize = 72;

/// What to do when the Kubernetes node image cannot be built (no Internet, most often).
const OFFLINE_WAYS_ON: &str =
    "\nThe Kubernetes node image needs the Internet (download.docker.com, \
     pkgs.k8s.io). Without it, `--kubernetes-from PATH` builds it from Kubernetes as files \
     (the kit `.ci/kubernetes-kit` builds from Go modules, or the official server tarball), \
     `dind up --no-kubernetes` brings up the network plane and plain nodes, or \
     `--node-image IMAGE` runs a node image you have.";

/// The error of a failed build, from the classic builder's output (`log`, its `stream`
/// lines) and its error: the step that failed, its instruction cut short, its exit code,
/// and the last lines that step printed.
pub(crate) fn build_failure(tag: &str, log: &[String], error: &str) -> String {
    let step_at = log
        .iter()
        .rposition(|line| line.trim_start().starts_with("Step "));
    let (step, output) = match step_at {
        Some(at) => (Some(log[at].trim()), &log[at + 1..]),
        None => (None, log),
    };
    let output: Vec<&str> = output
        .iter()
        .flat_map(|chunk| chunk.lines())
        .map(str::trim_end)
        .filter(|line| {
            let marker = line.trim_start();
            !line.trim().is_empty()
                && !marker.starts_with("---> ")
                && !marker.starts_with("Removing intermediate container")
        })
        .collect();
    let reason = match error.rsplit_once("returned a non-zero code: ") {
        Some((_, code)) => format!("exit code {}", code.trim()),
        None => error.trim().to_string(),
    };
    let mut text = match step.and_then(|s| s.strip_prefix("Step ")?.split_once(" : ")) {
        Some((number, instruction)) => format!(
            "building image {tag} failed at step {number} ({}): {reason}",
            shorten(instruction, INSTRUCTION_SHOWN)
        ),
        None => format!("building image {tag} failed: {reason}"),
    };
    if !output.is_empty() {
        let tail = &output[output.len().saturating_sub(FAILED_STEP_TAIL)..];
        text.push_str("; its last output lines:\n");
        text.push_str(&indent(&tail.join("\n")));
    }
    text
}

/// `text` cut at `limit` characters, with an ellipsis when it was longer.
fn shorten(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Removes every image dind built; images still used by a container are kept and named.
pub(crate) async fn remove_all(engine: &Engine) -> Result<(Vec<String>, Vec<String>)> {
    let filters = HashMap::from([("label".to_string(), vec![labels::IMAGE.to_string()])]);
    let options = ListImagesOptionsBuilder::default()
        .filters(&filters)
        .build();
    let images = engine
        .api()
        .list_images(Some(options))
        .await
        .context("cannot list images")?;
    let (mut removed, mut kept) = (Vec::new(), Vec::new());
    for image in images {
        let names = if image.repo_tags.is_empty() {
            vec![image.id.clone()]
        } else {
            image.repo_tags.clone()
        };
        for name in names {
            let options = RemoveImageOptionsBuilder::default().build();
            match engine.api().remove_image(&name, Some(options), None).await {
                Ok(_) => removed.push(name),
                Err(e) if kind(&e) == ErrorKind::NotFound => {}
                Err(_) => kept.push(name),
            }
        }
    }
    Ok((removed, kept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::config_from_env;

    #[test]
    fn a_cluster_builds_each_image_once_and_its_own_node_image_last() {
        let tags = |config: &crate::config::Config| -> Vec<String> {
            let node = NodeImage::for_config(config).expect("a node image");
            let specs = node.with_specs_of(&ImageKind::NETWORK_PLANE);
            specs.into_iter().map(|spec| spec.tag).collect()
        };
        let plane = ImageKind::NETWORK_PLANE
            .map(|kind| kind.spec().tag)
            .to_vec();
        let config = config_from_env(&[]);
        let with_kubernetes = tags(&config);
        assert_eq!(with_kubernetes[..3], plane[..]);
        assert_eq!(with_kubernetes.len(), 4);
        assert!(
            with_kubernetes[3].starts_with("dind/node:v1."),
            "{with_kubernetes:?}"
        );
        // Without Kubernetes the node image is the base target, built once.
        let network_plane_only = crate::config::Config {
            kubernetes: false,
            ..config
        };
        assert_eq!(tags(&network_plane_only), plane);
        // The user's own node image is not dind's to build.
        assert_eq!(
            tags(&config_from_env(&[("DIND_IMAGE", "example/node:1")])),
            plane
        );
    }

    #[test]
    fn the_tags_are_dinds_own_images_and_the_given_node() {
        let tags = ImageTags::with_node("example/node:1".into());
        assert_eq!(tags.node, "example/node:1");
        assert_eq!(tags.dns64, ImageKind::Dns64.spec().tag);
        assert_eq!(tags.nat64, ImageKind::Nat64.spec().tag);
        assert_eq!(tags.registry, ImageKind::Registry.spec().tag);
        assert_ne!(tags.dns64, tags.nat64);
    }

    /// The classic builder's `stream` items of a node image build on a machine without the
    /// Internet, as Docker 20.10 sends them (a step's stderr in red), read as build_as reads
    /// them.
    fn offline_build_log() -> Vec<String> {
        [
            "Step 1/14 : FROM debian:bookworm-slim AS base",
            " ---> 5f2b1b2c3d4e",
            "Step 2/14 : RUN apt-get update && apt-get install -y --no-install-recommends bind9 \
             dnsutils iproute2 iptables curl ca-certificates gnupg systemd systemd-sysv",
            " ---> Using cache",
            " ---> 0a1b2c3d4e5f",
            "Step 9/14 : RUN curl -fsSL https://download.docker.com/linux/debian/gpg | gpg \
             --dearmor -o /etc/apt/keyrings/docker.gpg && apt-get update",
            " ---> Running in 3c4d5e6f7a8b",
            "\u{1b}[91mcurl: (6) Could not resolve host: download.docker.com\n",
            "\u{1b}[0m",
            "\u{1b}[91mgpg: no valid OpenPGP data found.\n\u{1b}[0m",
        ]
        .iter()
        .filter_map(|item| build_output(item))
        .collect()
    }

    #[test]
    fn a_failed_build_names_its_step_exit_code_and_last_lines() {
        let error =
            "The command '/bin/sh -c curl -fsSL https://download.docker.com/linux/debian/gpg \
                     | gpg --dearmor -o /etc/apt/keyrings/docker.gpg && apt-get update' returned \
                     a non-zero code: 2";
        let text = build_failure("dind/node:v1.36-abc", &offline_build_log(), error);
        pretty_assertions::assert_eq!(
            text,
            "building image dind/node:v1.36-abc failed at step 9/14 (RUN curl -fsSL \
             https://download.docker.com/linux/debian/gpg | gpg --dear…): \
             exit code 2; its last output lines:\n    \
             curl: (6) Could not resolve host: download.docker.com\n    \
             gpg: no valid OpenPGP data found."
        );
    }

    #[test]
    fn a_failed_build_without_steps_keeps_the_daemons_message_and_the_last_lines_only() {
        let log: Vec<String> = (1..=20).map(|n| format!("line {n}")).collect();
        let text = build_failure("dind/dns64:abc", &log, "no space left on device");
        assert!(
            text.starts_with("building image dind/dns64:abc failed: no space left on device; its last output lines:\n    line 9\n"),
            "{text}"
        );
        assert!(text.ends_with("    line 20"), "{text}");
        assert_eq!(
            build_failure("t", &[], "boom"),
            "building image t failed: boom"
        );
    }

    #[test]
    fn versions_parse_from_the_image_file_and_become_labels() {
        let text = "kubeadm=v1.36.4\ncontainerd.io=2.2.1-1\nno equals sign\nbad=\"quote\"\n\
                    kubelet=1.36.4-1.1\n";
        let versions = parse_versions(text);
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            versions,
            [
                pair("kubeadm", "v1.36.4"),
                pair("containerd.io", "2.2.1-1"),
                pair("kubelet", "1.36.4-1.1")
            ]
        );
        assert_eq!(
            label_dockerfile("dind/node:x-unlabelled", &versions[..1]),
            "FROM dind/node:x-unlabelled\nLABEL \"io.github.dind.version.kubeadm\"=\"v1.36.4\"\n"
        );
        let labels: HashMap<String, String> = HashMap::from([
            (
                format!("{VERSION_LABEL_PREFIX}kubelet"),
                "1.36.4-1.1".into(),
            ),
            (format!("{VERSION_LABEL_PREFIX}kubeadm"), "v1.36.4".into()),
            (labels::IMAGE.to_string(), "node".into()),
        ]);
        assert_eq!(
            versions_from_labels(&labels),
            [pair("kubeadm", "v1.36.4"), pair("kubelet", "1.36.4-1.1")]
        );
    }

    fn node_file(name: &str) -> String {
        let file = IMAGES
            .get_file(format!("node/{name}"))
            .unwrap_or_else(|| panic!("images/node/{name} is embedded"));
        String::from_utf8(file.contents().to_vec()).expect("UTF-8")
    }

    /// The Internet target's choices that cannot be run here (no pkgs.k8s.io): containerd
    /// from a written configuration, pinned; crictl and the CNI plugins named; the kubelet
    /// in kubelet.slice, as kind runs it. (The kubernetes-from target runs in tests/e2e.)
    #[test]
    fn the_kubernetes_node_image_is_built_as_kind_builds_its_own() {
        let dockerfile = node_file("Dockerfile");
        let kubernetes = &dockerfile[dockerfile.find("AS systemd").expect("the target")..];
        // Not generated at build time (its output differs between containerd releases).
        assert!(!kubernetes.contains("containerd config default >"));
        assert!(kubernetes.contains("ARG CONTAINERD_MINOR=2.2"));
        assert!(kubernetes.contains("\"containerd.io=$containerd\""));
        for package in ["cri-tools", "kubernetes-cni"] {
            assert!(kubernetes.contains(package), "{package}");
        }
        assert!(kubernetes.contains("systemctl mask systemd-binfmt.service"));
        for copied in [
            "COPY containerd-config.toml /etc/containerd/config.toml",
            "COPY crictl.yaml /etc/crictl.yaml",
            "COPY kubelet.slice kubelet.service dind-preload-images.service /etc/systemd/system/",
            "COPY kubelet.default /etc/default/kubelet",
        ] {
            assert!(kubernetes.contains(copied), "{copied}");
        }
        assert!(node_file("dind-node-versions").contains(VERSIONS_PATH));

        let containerd = node_file("containerd-config.toml");
        assert!(containerd.contains("SystemdCgroup = true"));
        assert!(containerd.contains("sandbox_image = \"@SANDBOX_IMAGE@\""));
        assert!(node_file("crictl.yaml").contains("unix:///run/containerd/containerd.sock"));
        let kubelet_unit = node_file("10-dind-kubelet.conf");
        assert!(kubelet_unit.contains("Slice=kubelet.slice"));
        assert!(kubelet_unit.contains("ExecStartPre=/usr/local/bin/dind-kubelet-cgroup"));
        assert!(node_file("kubelet.default")
            .contains("--runtime-cgroups=/system.slice/containerd.service"));

        let entrypoint = node_file("dind-k8s-entrypoint");
        for step in [
            "mount --make-rshared /",
            "/sys/class/dmi/id/product_uuid",
            "DefaultEnvironment=\"HTTP_PROXY=",
            "/usr/local/bin/dind-net-setup",
            "exec /sbin/init",
        ] {
            assert!(entrypoint.contains(step), "{step}");
        }
    }

    #[test]
    fn every_image_is_built_from_the_base_the_lock_runs() {
        for dir in IMAGES
            .dirs()
            .filter(|d| d.path() != std::path::Path::new(COMMON_DIR))
        {
            let dockerfile = dir
                .get_file(dir.path().join("Dockerfile"))
                .unwrap_or_else(|| panic!("{} has a Dockerfile", dir.path().display()));
            let text = String::from_utf8_lossy(dockerfile.contents());
            let first_from = text
                .lines()
                .find(|l| l.starts_with("FROM "))
                .expect("a FROM line");
            assert!(
                first_from.starts_with(&format!("FROM {BASE_IMAGE}")),
                "{}: {first_from}",
                dir.path().display()
            );
        }
    }

    #[test]
    fn only_the_kubernetes_node_image_records_versions() {
        let version = "v1.36".parse().unwrap();
        assert!(ImageKind::NodeKubernetes(version).spec().records_versions());
        for kind in ImageKind::NETWORK_PLANE {
            assert!(!kind.spec().records_versions(), "{kind:?}");
        }
    }

    #[test]
    fn the_kubernetes_node_image_tag_carries_its_version_and_build_args() {
        let version = |v: &str| -> KubeVersion { v.parse().unwrap() };
        let spec = ImageKind::NodeKubernetes(version("v1.36")).spec();
        assert!(spec.tag.starts_with("dind/node:v1.36-"), "{}", spec.tag);
        assert_eq!(spec.target.as_deref(), Some("kubernetes"));
        assert_eq!(
            spec.build_args,
            [
                ("KUBERNETES_MINOR".to_string(), "v1.36".to_string()),
                ("KUBERNETES_PATCH".to_string(), String::new())
            ]
        );
        let pinned = ImageKind::NodeKubernetes(version("v1.35.2")).spec();
        assert_eq!(pinned.build_args[1].1, "v1.35.2");
        assert_ne!(
            ImageKind::NodeKubernetes(version("v1.35"))
                .spec()
                .tag
                .split('-')
                .next_back(),
            pinned.tag.split('-').next_back(),
            "a pinned patch is another image"
        );
        assert_ne!(ImageKind::NodeBase.spec().tag, spec.tag);
    }
}
