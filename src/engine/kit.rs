//! Kubernetes given as files (`--kubernetes-from`): the official server tarball
//! (kubernetes-server-linux-amd64.tar.gz), the directory it unpacks to, or the kit that
//! `.ci/kubernetes-kit` builds, which has that layout plus what the tarball lacks (the
//! images of etcd, CoreDNS and pause in `images/`, crictl in `bin/`). What a node needs of
//! it becomes the build context of the node image's `kubernetes-from` target:
//! `kit/bin/{kubeadm,kubelet,kubectl[,crictl]}` and every image archive in `kit/images/`.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The programs a node runs, from `server/bin`.
const PROGRAMS: [&str; 3] = ["kubeadm", "kubelet", "kubectl"];
/// The control-plane images, `docker save` archives in `server/bin`.
const IMAGES: [&str; 4] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
];
/// Where the context puts them.
const CONTEXT_BIN: &str = "kit/bin";
const CONTEXT_IMAGES: &str = "kit/images";
/// How the fix reads in every error.
const WHAT_TO_GIVE: &str = "give the directory `.ci/kubernetes-kit` printed, or \
    kubernetes-server-linux-amd64.tar.gz (or the directory it unpacks to)";

#[derive(Debug, thiserror::Error)]
pub enum KitError {
    #[error("--kubernetes-from {path}: {what} is missing; {WHAT_TO_GIVE}", path = .path.display())]
    Missing { path: PathBuf, what: String },
    #[error("--kubernetes-from {path}: cannot read {what}: {source}; {WHAT_TO_GIVE}", path = .path.display())]
    Unreadable {
        path: PathBuf,
        what: String,
        source: std::io::Error,
    },
}

/// A Kubernetes read from files, ready to go into a build context.
#[derive(Debug)]
pub struct Kit {
    /// As `kubernetes/version` (or the API server image's tag) says: `v1.35.4`.
    pub version: String,
    /// Build-context path -> file on this machine, in context-path order.
    pub files: Vec<(String, PathBuf)>,
    /// A tarball's members, unpacked for the build; removed when the kit goes.
    _unpacked: Option<tempfile::TempDir>,
}

impl Kit {
    /// Reads `path`: a directory, or a tarball (gzip-compressed or not).
    pub fn open(path: &Path) -> Result<Kit, KitError> {
        let unreadable = |what: &str, source| KitError::Unreadable {
            path: path.to_path_buf(),
            what: what.to_string(),
            source,
        };
        let meta = fs::metadata(path).map_err(|e| unreadable("it", e))?;
        if meta.is_dir() {
            return Kit::from_dir(path, path, None);
        }
        let unpacked = tempfile::Builder::new()
            .prefix("dind-kubernetes-from.")
            .tempdir()
            .map_err(|e| unreadable("a temporary directory for it", e))?;
        unpack_server(path, unpacked.path()).map_err(|e| unreadable("it as a tarball", e))?;
        let root = unpacked.path().to_path_buf();
        Kit::from_dir(path, &root, Some(unpacked))
    }

    /// `given` is what the user named (for errors); `root` holds the layout.
    fn from_dir(
        given: &Path,
        root: &Path,
        unpacked: Option<tempfile::TempDir>,
    ) -> Result<Kit, KitError> {
        let missing = |what: String| KitError::Missing {
            path: given.to_path_buf(),
            what,
        };
        // The directory the tarball unpacks to holds `kubernetes/`; that one `server/bin`.
        let (kubernetes, extras) = if root.join("kubernetes/server/bin").is_dir() {
            (root.join("kubernetes"), root.to_path_buf())
        } else if root.join("server/bin").is_dir() {
            (root.to_path_buf(), root.to_path_buf())
        } else {
            return Err(missing("kubernetes/server/bin".into()));
        };
        let server = kubernetes.join("server/bin");
        let mut files = Vec::new();
        for program in PROGRAMS {
            let file = server.join(program);
            if !file.is_file() {
                return Err(missing(format!("server/bin/{program}")));
            }
            files.push((format!("{CONTEXT_BIN}/{program}"), file));
        }
        for image in IMAGES {
            let file = server.join(format!("{image}.tar"));
            if !file.is_file() {
                return Err(missing(format!(
                    "server/bin/{image}.tar (the image, as `docker save` writes it)"
                )));
            }
            files.push((format!("{CONTEXT_IMAGES}/{image}.tar"), file));
        }
        let crictl = extras.join("bin/crictl");
        if crictl.is_file() {
            files.push((format!("{CONTEXT_BIN}/crictl"), crictl));
        }
        let extra_images = extras.join("images");
        if extra_images.is_dir() {
            let entries = fs::read_dir(&extra_images).map_err(|e| KitError::Unreadable {
                path: given.to_path_buf(),
                what: "images/".into(),
                source: e,
            })?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_archive = name.ends_with(".tar") && entry.path().is_file();
                // The control-plane archives keep the names they have in server/bin.
                if is_archive && !IMAGES.iter().any(|i| name == format!("{i}.tar")) {
                    files.push((format!("{CONTEXT_IMAGES}/{name}"), entry.path()));
                }
            }
        }
        files.sort();
        let version = read_version(&kubernetes, &server).ok_or_else(|| {
            missing("kubernetes/version (or server/bin/kube-apiserver.docker_tag)".into())
        })?;
        Ok(Kit {
            version,
            files,
            _unpacked: unpacked,
        })
    }
}

fn read_version(kubernetes: &Path, server: &Path) -> Option<String> {
    [
        kubernetes.join("version"),
        server.join("kube-apiserver.docker_tag"),
    ]
    .iter()
    .filter_map(|file| fs::read_to_string(file).ok())
    .map(|text| text.trim().to_string())
    .find(|version| version.starts_with('v') && !version.contains(char::is_whitespace))
}

/// Unpacks the members a node needs of a server tarball into `dir`, keeping their paths.
fn unpack_server(tarball: &Path, dir: &Path) -> std::io::Result<()> {
    let mut file = fs::File::open(tarball)?;
    let mut magic = [0u8; 2];
    let gzipped = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    let file = fs::File::open(tarball)?;
    let reader: Box<dyn Read> = if gzipped {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if wanted_member(&path) {
            entry.unpack_in(dir)?;
        }
    }
    Ok(())
}

/// `kubernetes/version` and what [`Kit::from_dir`] takes of `kubernetes/server/bin`.
fn wanted_member(path: &Path) -> bool {
    let path = path.strip_prefix("./").unwrap_or(path);
    if path == Path::new("kubernetes/version") {
        return true;
    }
    let Ok(name) = path.strip_prefix("kubernetes/server/bin") else {
        return false;
    };
    let name = name.to_string_lossy();
    PROGRAMS.contains(&name.as_ref())
        || IMAGES
            .iter()
            .any(|image| name == format!("{image}.tar") || name == format!("{image}.docker_tag"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The official tarball's layout under `root`, each file holding its own name.
    fn official_layout(root: &Path) {
        let server = root.join("kubernetes/server/bin");
        fs::create_dir_all(&server).unwrap();
        fs::write(root.join("kubernetes/version"), "v1.35.4\n").unwrap();
        for name in PROGRAMS.iter().map(|p| p.to_string()).chain(
            IMAGES
                .iter()
                .flat_map(|i| [format!("{i}.tar"), format!("{i}.docker_tag")]),
        ) {
            fs::write(server.join(&name), &name).unwrap();
        }
        // What the tarball has besides and a node does not need.
        fs::write(server.join("kube-log-runner"), "x").unwrap();
    }

    fn context_paths(kit: &Kit) -> Vec<&str> {
        kit.files.iter().map(|(path, _)| path.as_str()).collect()
    }

    #[test]
    fn the_unpacked_tarball_gives_the_programs_and_the_control_plane_images() {
        let dir = tempfile::tempdir().unwrap();
        official_layout(dir.path());
        let kit = Kit::open(dir.path()).unwrap();
        assert_eq!(kit.version, "v1.35.4");
        assert_eq!(
            context_paths(&kit),
            [
                "kit/bin/kubeadm",
                "kit/bin/kubectl",
                "kit/bin/kubelet",
                "kit/images/kube-apiserver.tar",
                "kit/images/kube-controller-manager.tar",
                "kit/images/kube-proxy.tar",
                "kit/images/kube-scheduler.tar",
            ]
        );
        // Its `kubernetes/` directory itself works too.
        let inner = Kit::open(&dir.path().join("kubernetes")).unwrap();
        assert_eq!(context_paths(&inner), context_paths(&kit));
    }

    #[test]
    fn the_kit_adds_crictl_and_its_images() {
        let dir = tempfile::tempdir().unwrap();
        official_layout(dir.path());
        fs::create_dir_all(dir.path().join("bin")).unwrap();
        fs::write(dir.path().join("bin/crictl"), "crictl").unwrap();
        fs::create_dir_all(dir.path().join("images")).unwrap();
        for name in ["etcd.tar", "pause.tar", "notes.txt"] {
            fs::write(dir.path().join("images").join(name), name).unwrap();
        }
        let kit = Kit::open(dir.path()).unwrap();
        let paths = context_paths(&kit);
        assert!(paths.contains(&"kit/bin/crictl"), "{paths:?}");
        assert!(paths.contains(&"kit/images/etcd.tar"), "{paths:?}");
        assert!(paths.contains(&"kit/images/pause.tar"), "{paths:?}");
        assert!(!paths.iter().any(|p| p.ends_with("notes.txt")), "{paths:?}");
        let (_, etcd) = kit
            .files
            .iter()
            .find(|(p, _)| p == "kit/images/etcd.tar")
            .unwrap();
        assert_eq!(fs::read_to_string(etcd).unwrap(), "etcd.tar");
    }

    #[test]
    fn a_gzipped_tarball_is_read_for_the_members_a_node_needs() {
        let dir = tempfile::tempdir().unwrap();
        official_layout(dir.path());
        let tarball = dir.path().join("kubernetes-server-linux-amd64.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            fs::File::create(&tarball).unwrap(),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(gz);
        builder
            .append_dir_all("kubernetes", dir.path().join("kubernetes"))
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap();

        let kit = Kit::open(&tarball).unwrap();
        assert_eq!(kit.version, "v1.35.4");
        assert_eq!(kit.files.len(), 7, "{:?}", context_paths(&kit));
        let (_, kubelet) = &kit.files[2];
        assert_eq!(fs::read_to_string(kubelet).unwrap(), "kubelet");
        let unpacked = kubelet.clone();
        drop(kit);
        assert!(!unpacked.exists(), "the unpacked members go with the kit");
    }

    #[test]
    fn what_is_missing_is_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let err = Kit::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("kubernetes/server/bin is missing"), "{err}");
        assert!(err.contains(".ci/kubernetes-kit"), "{err}");

        official_layout(dir.path());
        fs::remove_file(dir.path().join("kubernetes/server/bin/kube-proxy.tar")).unwrap();
        let err = Kit::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "--kubernetes-from {}: server/bin/kube-proxy.tar (the image",
                dir.path().display()
            )),
            "{err}"
        );

        let file = dir.path().join("not-a-tarball");
        fs::write(&file, "hello").unwrap();
        let err = Kit::open(&file).unwrap_err().to_string();
        assert!(err.contains("cannot read it as a tarball"), "{err}");

        let empty = dir.path().join("empty.tar");
        tar::Builder::new(fs::File::create(&empty).unwrap())
            .into_inner()
            .unwrap();
        let err = Kit::open(&empty).unwrap_err().to_string();
        assert!(err.contains("kubernetes/server/bin is missing"), "{err}");
    }

    #[test]
    fn the_version_falls_back_to_the_api_servers_image_tag() {
        let dir = tempfile::tempdir().unwrap();
        official_layout(dir.path());
        fs::remove_file(dir.path().join("kubernetes/version")).unwrap();
        fs::write(
            dir.path()
                .join("kubernetes/server/bin/kube-apiserver.docker_tag"),
            "v1.35.4",
        )
        .unwrap();
        assert_eq!(Kit::open(dir.path()).unwrap().version, "v1.35.4");
    }
}
