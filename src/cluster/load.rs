//! `dind load docker-image` and `dind load image-archive`: host images into every (or the
//! named) Kubernetes node's containerd, namespace k8s.io, all nodes side by side. A node that
//! already holds an image under the same name and digest is skipped: the digest its
//! containerd records for the name must be Docker's image id, or be a manifest whose config
//! is that id (`docker save` of the classic store writes the config as the id; the
//! containerd store's id is the manifest's or index's own digest). Nothing is exported when
//! no node needs anything.

use crate::engine::docker::{ContainerState, Engine};
use crate::exit::InvalidInput;
use crate::plan::{self, ClusterPlan};
use crate::progress::Progress;
use crate::render::containerd;
use crate::state::find_record;
use anyhow::{anyhow, bail, Context, Result};
use futures_util::future::{join_all, try_join_all};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// One image to load: the names containerd will know it by, and its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// Normalized as containerd names images (`docker.io/library/app:1`).
    pub(crate) refs: Vec<String>,
    /// Docker's image id or the archive's config digest; None: unknown, always loaded.
    pub(crate) digest: Option<String>,
}

/// What happened on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeOutcome {
    pub(crate) node: String,
    pub(crate) loaded: Vec<String>,
    /// Names present with the same digest, and that digest.
    pub(crate) skipped: Vec<(String, String)>,
}

/// Where the images come from.
pub(crate) enum Source<'a> {
    Docker(&'a [String]),
    Archive(&'a Path),
}

const CTR: &[&str] = &["ctr", "--namespace=k8s.io"];

pub(crate) async fn load(
    engine: &Engine,
    cluster_id: u8,
    source: Source<'_>,
    only: Option<&[String]>,
    progress: &Progress,
) -> Result<Vec<NodeOutcome>> {
    // The cheap checks first: nothing is exported for a cluster or node that is not there.
    if let Source::Archive(path) = source {
        require_archive_file(path)?;
    }
    let nodes = running_nodes(engine, cluster_id, only).await?;
    let wanted = wanted_images(engine, &source).await?;
    let checked = progress
        .step(
            &format!("Checking the images of {} node(s)", nodes.len()),
            try_join_all(nodes.iter().map(|node| check_node(engine, node, &wanted))),
        )
        .await?;
    let needing: Vec<&Checked> = checked.iter().filter(|c| c.needs_import).collect();
    if needing.is_empty() {
        return Ok(checked.into_iter().map(|c| c.outcome).collect());
    }
    let archive = archive_of(engine, &source, progress).await?;
    import_into_nodes(engine, &needing, &archive, progress).await?;
    Ok(checked.into_iter().map(|c| c.outcome).collect())
}

fn require_archive_file(path: &Path) -> Result<()> {
    if path.is_file() {
        return Ok(());
    }
    Err(InvalidInput::wrap(anyhow!(
        "image archive {} does not exist or is not a file; `docker save -o {} IMAGE` makes one",
        path.display(),
        path.display()
    )))
}

/// The cluster's nodes to load into (all, or `only`), each of them running.
async fn running_nodes(
    engine: &Engine,
    cluster_id: u8,
    only: Option<&[String]>,
) -> Result<Vec<String>> {
    let record = find_record(engine, cluster_id).await?.with_context(|| {
        format!("no dind cluster {cluster_id} here; `dind up --cluster-id {cluster_id}` creates it")
    })?;
    let cluster_plan = plan::plan(&record.config);
    let nodes = select_nodes(&cluster_plan, only).map_err(InvalidInput::wrap)?;
    for node in &nodes {
        require_running(engine, cluster_id, node).await?;
    }
    Ok(nodes)
}

async fn require_running(engine: &Engine, cluster_id: u8, node: &str) -> Result<()> {
    let state = match engine.container_state(node).await? {
        ContainerState::Running => return Ok(()),
        ContainerState::Missing => bail!(
            "node {node} of cluster {cluster_id} is gone; `dind up --cluster-id {cluster_id}` makes it again"
        ),
        ContainerState::Stopped { status, .. } => status,
        ContainerState::Paused => "paused".into(),
        _ => "restarting".into(),
    };
    bail!(
        "node {node} of cluster {cluster_id} is not running ({state}); `dind up --cluster-id {cluster_id}` starts it"
    )
}

/// The images the source holds, as containerd will name them.
async fn wanted_images(engine: &Engine, source: &Source<'_>) -> Result<Vec<Wanted>> {
    match *source {
        Source::Docker(names) => docker_images(engine, names).await,
        Source::Archive(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open image archive {}", path.display()))?;
            archive_images(file).with_context(|| {
                format!(
                    "{} is not an image archive (`docker save`'s)",
                    path.display()
                )
            })
        }
    }
}

/// The archive to import: the one given, or Docker's images saved to a temporary file.
async fn archive_of(
    engine: &Engine,
    source: &Source<'_>,
    progress: &Progress,
) -> Result<ArchivePath> {
    let names = match *source {
        Source::Docker(names) => names,
        Source::Archive(path) => return Ok(ArchivePath::Given(path.to_path_buf())),
    };
    let file = progress
        .run(
            &format!("Exporting {} image(s) from Docker", names.len()),
            async |phase| {
                let file =
                    tempfile::NamedTempFile::new().context("cannot make a temporary file")?;
                let mut out = tokio::fs::File::create(file.path()).await?;
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let bytes = engine.save_images(&names, &mut out).await?;
                phase.message(&format!("{bytes} bytes"));
                Ok(file)
            },
        )
        .await?;
    Ok(ArchivePath::Temporary(file))
}

/// Imports the archive into every node that needs it, side by side; the first failure is
/// returned once all are done.
async fn import_into_nodes(
    engine: &Engine,
    needing: &[&Checked],
    archive: &ArchivePath,
    progress: &Progress,
) -> Result<()> {
    let platform = import_platform(engine).await?;
    let imported = join_all(needing.iter().map(|checked| {
        let (platform, node) = (platform.as_deref(), &checked.outcome.node);
        async move {
            progress
                .run(&format!("Loading into {node}"), async |_| {
                    import(engine, node, archive.path(), platform).await
                })
                .await
        }
    }))
    .await;
    imported.into_iter().collect::<Result<Vec<()>>>()?;
    Ok(())
}

/// What a node lacks of the wanted images.
struct Checked {
    outcome: NodeOutcome,
    needs_import: bool,
}

enum ArchivePath {
    Temporary(tempfile::NamedTempFile),
    Given(std::path::PathBuf),
}

impl ArchivePath {
    fn path(&self) -> &Path {
        match self {
            ArchivePath::Temporary(file) => file.path(),
            ArchivePath::Given(path) => path,
        }
    }
}

/// `ctr import`: every platform of the archive, as kind does, where `docker save` writes
/// one; on a daemon whose save could be asked for one platform (API 1.48+, the containerd
/// image store) but is not (bollard's save names no platform), only the host's, so that an
/// index naming platforms whose blobs the daemon lacks still imports (kind issue #3795).
async fn import_platform(engine: &Engine) -> Result<Option<String>> {
    match engine.save_takes_platform() {
        true => Ok(Some(engine.platform().await?)),
        false => Ok(None),
    }
}

/// The import command: one platform, or all of them; the node CRI's snapshotter if named.
pub(crate) fn import_argv(platform: Option<&str>, snapshotter: Option<&str>) -> Vec<String> {
    let mut argv: Vec<String> = CTR.iter().map(|s| s.to_string()).collect();
    argv.extend(["images".into(), "import".into(), "--digests".into()]);
    argv.push(match platform {
        Some(platform) => format!("--platform={platform}"),
        None => "--all-platforms".into(),
    });
    if let Some(snapshotter) = snapshotter {
        argv.push(format!("--snapshotter={snapshotter}"));
    }
    argv.push("-".into());
    argv
}

async fn check_node(engine: &Engine, node: &str, wanted: &[Wanted]) -> Result<Checked> {
    let present = present_images(engine, node).await?;
    let mut outcome = NodeOutcome {
        node: node.to_string(),
        loaded: Vec::new(),
        skipped: Vec::new(),
    };
    let mut needs_import = false;
    for image in wanted {
        for name in &image.refs {
            match (present.get(name), &image.digest) {
                (Some(digest), Some(want)) if same_image(engine, node, digest, want).await? => {
                    outcome.skipped.push((name.clone(), want.clone()))
                }
                _ => {
                    needs_import = true;
                    outcome.loaded.push(name.clone());
                }
            }
        }
        // Nameless images cannot be looked up: always imported.
        needs_import |= image.refs.is_empty();
    }
    Ok(Checked {
        outcome,
        needs_import,
    })
}

async fn import(engine: &Engine, node: &str, archive: &Path, platform: Option<&str>) -> Result<()> {
    let file = tokio::fs::File::open(archive)
        .await
        .with_context(|| format!("cannot open {}", archive.display()))?;
    // Unpacked for the snapshotter the node's CRI uses, as kind does.
    let config = engine.read_file(node, containerd::CONFIG_PATH).await?;
    let snapshotter =
        config.and_then(|text| containerd::snapshotter(&String::from_utf8_lossy(&text)));
    let import = import_argv(platform, snapshotter.as_deref());
    let argv: Vec<&str> = import.iter().map(String::as_str).collect();
    let out = engine.exec_with_stdin(node, &argv, file).await?;
    if !out.success() {
        bail!(
            "`{}` in {node} exited with {}: {}",
            argv.join(" "),
            out.code,
            crate::engine::docker::first_lines(&format!("{}{}", out.stderr, out.stdout), 12)
        );
    }
    Ok(())
}

/// The node's images: name -> the digest containerd records for it.
async fn present_images(engine: &Engine, node: &str) -> Result<BTreeMap<String, String>> {
    let argv: Vec<&str> = CTR.iter().copied().chain(["images", "ls"]).collect();
    let out = engine.exec(node, &argv).await?;
    if !out.success() {
        bail!(
            "node {node} has no usable containerd (`{}` exited with {}: {}); is it a Kubernetes node?",
            argv.join(" "),
            out.code,
            out.stderr.trim()
        );
    }
    Ok(parse_image_list(&out.stdout))
}

async fn same_image(engine: &Engine, node: &str, digest: &str, want: &str) -> Result<bool> {
    if digest == want {
        return Ok(true);
    }
    let argv: Vec<&str> = CTR
        .iter()
        .copied()
        .chain(["content", "get", digest])
        .collect();
    let out = engine.exec(node, &argv).await?;
    Ok(out.success() && manifest_config(&out.stdout).as_deref() == Some(want))
}

/// `ctr images ls`: REF TYPE DIGEST SIZE PLATFORMS LABELS, the size with a space in it.
pub(crate) fn parse_image_list(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .skip_while(|line| line.starts_with("REF"))
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?;
            let digest = fields.nth(1)?;
            digest
                .starts_with("sha256:")
                .then(|| (name.to_string(), digest.to_string()))
        })
        .collect()
}

/// A manifest's config digest; None for anything else (an index, not JSON).
pub(crate) fn manifest_config(json: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Manifest {
        config: Descriptor,
    }
    #[derive(Deserialize)]
    struct Descriptor {
        digest: String,
    }
    serde_json::from_str::<Manifest>(json)
        .ok()
        .map(|m| m.config.digest)
}

/// The node names to load into: the cluster's nodes, or the named ones, each checked.
pub(crate) fn select_nodes(plan: &ClusterPlan, only: Option<&[String]>) -> Result<Vec<String>> {
    let all: Vec<String> = plan.nodes.iter().map(|n| n.container.clone()).collect();
    let Some(only) = only else {
        return Ok(all);
    };
    let mut chosen = Vec::new();
    for name in only.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !all.iter().any(|n| n == name) {
            bail!(
                "{name} is not a node of dind cluster {}; its nodes are {} (as `dind get nodes --cluster-id {}` prints them)",
                plan.cluster_id,
                all.join(", "),
                plan.cluster_id
            );
        }
        if !chosen.iter().any(|n| n == name) {
            chosen.push(name.to_string());
        }
    }
    if chosen.is_empty() {
        bail!("--nodes names no node; give node names like {}", all[0]);
    }
    Ok(chosen)
}

/// The host's images by the names given, each named as containerd will name it.
async fn docker_images(engine: &Engine, names: &[String]) -> Result<Vec<Wanted>> {
    let mut wanted = Vec::new();
    for name in names {
        let image = engine.host_image(name).await?.with_context(|| {
            format!("image {name} is not on the Docker host; `docker pull {name}` or `docker build -t {name} .` first")
        })?;
        if name.starts_with("sha256:")
            || image
                .id
                .trim_start_matches("sha256:")
                .starts_with(name.as_str())
        {
            bail!(
                "image {name} is named by its id; name it by repository:tag (one of: {})",
                image.repo_tags.join(", ")
            );
        }
        wanted.push(Wanted {
            refs: vec![normalize(name)],
            digest: Some(image.id),
        });
    }
    Ok(wanted)
}

/// A Docker image name as containerd names it: `app` is `docker.io/library/app:latest`.
pub(crate) fn normalize(name: &str) -> String {
    let (path, digest) = match name.split_once('@') {
        Some((path, digest)) => (path, Some(digest)),
        None => (name, None),
    };
    let first = path.split('/').next().unwrap_or_default();
    let has_domain =
        path.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = match (has_domain, path.contains('/')) {
        (true, _) => path.to_string(),
        (false, true) => format!("docker.io/{path}"),
        (false, false) => format!("docker.io/library/{path}"),
    };
    let last = full.rsplit('/').next().unwrap_or_default();
    if digest.is_none() && !last.contains(':') {
        full.push_str(":latest");
    }
    match digest {
        Some(digest) => format!("{full}@{digest}"),
        None => full,
    }
}

/// The images of a `docker save` archive (its manifest.json): each config digest and the
/// names it carries. An OCI layout without manifest.json gives one image of unknown digest.
pub(crate) fn archive_images(archive: impl Read) -> Result<Vec<Wanted>> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry {
        config: String,
        #[serde(default)]
        repo_tags: Option<Vec<String>>,
    }
    let mut archive = tar::Archive::new(archive);
    let mut saw_index = false;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if path == "index.json" {
            saw_index = true;
        }
        if path != "manifest.json" {
            continue;
        }
        let mut text = String::new();
        entry.read_to_string(&mut text)?;
        let entries: Vec<Entry> =
            serde_json::from_str(&text).context("manifest.json is not docker save's")?;
        return Ok(entries
            .into_iter()
            .map(|entry| Wanted {
                refs: entry
                    .repo_tags
                    .unwrap_or_default()
                    .iter()
                    .map(|t| normalize(t))
                    .collect(),
                digest: config_digest(&entry.config),
            })
            .collect());
    }
    if saw_index {
        return Ok(vec![Wanted {
            refs: Vec::new(),
            digest: None,
        }]);
    }
    bail!("it has neither manifest.json nor index.json")
}

/// `blobs/sha256/HEX` (Docker 25+) or `HEX.json` (older): `sha256:HEX`.
fn config_digest(path: &str) -> Option<String> {
    let hex = path
        .strip_prefix("blobs/sha256/")
        .or_else(|| path.strip_suffix(".json"))?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

/// The lines `dind load` prints: per node, what was loaded and what was skipped.
pub(crate) fn render_outcomes(outcomes: &[NodeOutcome]) -> String {
    let mut text = String::new();
    for outcome in outcomes {
        for name in &outcome.loaded {
            text.push_str(&format!("{}: loaded {name}\n", outcome.node));
        }
        for (name, digest) in &outcome.skipped {
            text.push_str(&format!(
                "{}: skipped {name}, already present with the same digest ({digest})\n",
                outcome.node
            ));
        }
        if outcome.loaded.is_empty() && outcome.skipped.is_empty() {
            text.push_str(&format!(
                "{}: loaded the archive (its images carry no names)\n",
                outcome.node
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests;
