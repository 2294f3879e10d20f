//! The images dind builds itself (DNS64, NAT64, node), embedded in the binary so `dind` can
//! build them on any Docker host. Tags carry a hash of the build context: a changed
//! Dockerfile gets a new tag, an unchanged one is never rebuilt.

use crate::config::KubeVersion;
use crate::docker::{first_lines, Engine};
use crate::labels;
use crate::progress::Phase;
use anyhow::{bail, Context, Result};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, ListImagesOptionsBuilder, RemoveImageOptionsBuilder,
};
use futures_util::StreamExt;
use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

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
}

impl ImageKind {
    /// The images that need nothing from outside Debian's mirror.
    pub const NETWORK_PLANE: [ImageKind; 3] =
        [ImageKind::Dns64, ImageKind::Nat64, ImageKind::NodeBase];

    pub fn name(self) -> &'static str {
        match self {
            ImageKind::Dns64 => "dns64",
            ImageKind::Nat64 => "nat64",
            ImageKind::NodeBase => "node-base",
            ImageKind::NodeKubernetes(_) => "node",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            ImageKind::Dns64 => "dns64",
            ImageKind::Nat64 => "nat64",
            ImageKind::NodeBase | ImageKind::NodeKubernetes(_) => "node",
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
        let mut files = Vec::new();
        for dir in [self.dir(), COMMON_DIR] {
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
        let mut spec = ImageSpec::new(self.name(), files, self.target(), self.build_args());
        if let ImageKind::NodeKubernetes(version) = self {
            // The version in the tag tells images apart at a glance.
            spec.tag = spec.tag.replacen(':', &format!(":{version}-"), 1);
        }
        spec
    }
}

/// A build context and the tag derived from it.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub kind: String,
    pub tag: String,
    pub target: Option<String>,
    pub build_args: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
}

impl ImageSpec {
    pub fn new(
        kind: &str,
        mut files: Vec<(String, Vec<u8>)>,
        target: Option<&str>,
        build_args: Vec<(String, String)>,
    ) -> ImageSpec {
        files.sort();
        let mut hash = Sha256::new();
        for (name, contents) in &files {
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update((contents.len() as u64).to_le_bytes());
            hash.update(contents);
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
        ImageSpec {
            kind: kind.to_string(),
            tag: format!("dind/{kind}:{short}"),
            target: target.map(str::to_string),
            build_args,
            files,
        }
    }

    fn context_tar(&self) -> Result<Vec<u8>> {
        let mut archive = tar::Builder::new(Vec::new());
        for (name, contents) in &self.files {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(if contents.starts_with(b"#!") {
                0o755
            } else {
                0o644
            });
            header.set_mtime(0);
            header.set_cksum();
            archive.append_data(&mut header, name, contents.as_slice())?;
        }
        Ok(archive.into_inner()?)
    }
}

pub async fn exists(engine: &Engine, tag: &str) -> Result<bool> {
    match engine.api().inspect_image(tag).await {
        Ok(_) => Ok(true),
        Err(e) if crate::docker::is_not_found(&e) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot inspect image {tag}")),
    }
}

/// Builds `spec` unless its tag is present; progress lines go to `phase`.
pub async fn ensure(engine: &Engine, spec: &ImageSpec, phase: &Phase) -> Result<()> {
    if exists(engine, &spec.tag).await? {
        return Ok(());
    }
    build(engine, spec, phase).await
}

pub async fn build(engine: &Engine, spec: &ImageSpec, phase: &Phase) -> Result<()> {
    let context = spec
        .context_tar()
        .context("cannot pack the build context")?;
    let labels = HashMap::from([(labels::IMAGE.to_string(), spec.kind.clone())]);
    let build_args: HashMap<String, String> = spec.build_args.iter().cloned().collect();
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&spec.tag)
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
        Some(bollard::body_full(context.into())),
    );
    let mut log: Vec<String> = Vec::new();
    while let Some(item) = stream.next().await {
        let info = item.with_context(|| format!("building image {} failed", spec.tag))?;
        if let Some(line) = info
            .stream
            .as_deref()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
        {
            phase.message(&format!("{}: {}", spec.kind, line.trim()));
            log.push(line.to_string());
        }
        if let Some(detail) = info.error_detail {
            let tail = log
                .iter()
                .rev()
                .take(15)
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n");
            bail!(
                "building image {} failed: {}\nlast build output:\n{}",
                spec.tag,
                detail.message.unwrap_or_default(),
                first_lines(&tail, 15)
            );
        }
    }
    if !exists(engine, &spec.tag).await? {
        bail!("building image {} ended without producing it", spec.tag);
    }
    Ok(())
}

/// Removes every image dind built; images still used by a container are kept and named.
pub async fn remove_all(engine: &Engine) -> Result<(Vec<String>, Vec<String>)> {
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
                Err(e) if crate::docker::is_not_found(&e) => {}
                Err(_) => kept.push(name),
            }
        }
    }
    Ok((removed, kept))
}
