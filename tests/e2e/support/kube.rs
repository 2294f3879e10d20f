//! Fixtures for the suites on live Kubernetes clusters: the kit they are built from, a
//! cluster brought up from it and always taken down, kubectl through the published API
//! port with `dind kubeconfig`, and the test pods' image.

use super::{dind, engine, stderr, stdout, wait_for, Check, WAN_V4};
use anyhow::{bail, Context, Result};
use dind::engine::images::{self, ImageSpec};
use dind::progress::Progress;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The Kubernetes the clusters are built from: `DIND_E2E_KUBERNETES_FROM`, else the kit
/// `.ci/kubernetes-kit` has cached (or builds: the first time takes minutes). A kit that
/// cannot be had fails the test; it is never skipped.
pub fn kubernetes_kit() -> PathBuf {
    static KIT: OnceLock<PathBuf> = OnceLock::new();
    KIT.get_or_init(|| {
        if let Some(path) = std::env::var_os("DIND_E2E_KUBERNETES_FROM") {
            return PathBuf::from(path);
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/kubernetes-kit");
        let out = Command::new("bash")
            .arg(script)
            .stderr(Stdio::inherit())
            .output()
            .expect("bash runs .ci/kubernetes-kit");
        let printed = String::from_utf8_lossy(&out.stdout);
        let kit = printed.lines().last().unwrap_or_default().trim();
        assert!(
            out.status.success() && Path::new(kit).is_dir(),
            "the Kubernetes suites need the kit: `bash .ci/kubernetes-kit` failed ({}); \
             or set DIND_E2E_KUBERNETES_FROM to a kit or server tarball",
            out.status
        );
        PathBuf::from(kit)
    })
    .clone()
}

/// The kit's kubectl, run on the host against the published API port.
fn kubectl_program() -> PathBuf {
    kubernetes_kit().join("kubernetes/server/bin/kubectl")
}

/// A Kubernetes cluster from the kit, its DNS64 forwarding to the simulated Internet's
/// resolver, its kubeconfig merged into a file of its own; `dind down` runs on drop.
pub struct KubeCluster {
    pub id: u8,
    dir: tempfile::TempDir,
    /// What `dind kubeconfig` printed, for kubectl.
    kubeconfig: PathBuf,
}

impl KubeCluster {
    /// `dind up` of cluster `id` with `extra` arguments; fails the test's step when `up`
    /// does (the guard takes down what it left).
    pub fn up(id: u8, extra: &[&str]) -> Result<KubeCluster> {
        let cluster = KubeCluster::guard(id);
        let out = cluster.dind_up(extra);
        if !out.status.success() {
            bail!("dind up failed:\n{}", stderr(&out));
        }
        cluster.write_kubeconfig()?;
        Ok(cluster)
    }

    /// The guard of cluster `id` alone, for a test that runs `up` itself: it takes down
    /// whatever that left.
    pub fn guard(id: u8) -> KubeCluster {
        let dir = tempfile::tempdir().expect("a temporary directory");
        KubeCluster {
            id,
            kubeconfig: dir.path().join("kubeconfig"),
            dir,
        }
    }

    /// The arguments of this cluster's `up`, with `extra`.
    pub fn up_args(&self, extra: &[&str]) -> Vec<String> {
        let kit = kubernetes_kit();
        let mut args: Vec<String> = [
            "up",
            "--cluster-id",
            &self.id.to_string(),
            "--kubernetes-from",
            &kit.to_string_lossy(),
            "--upstream-dns",
            WAN_V4,
            "--kubeconfig",
            &self.merged_kubeconfig().to_string_lossy(),
            "--wait",
            "5m",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// Runs `dind up` for this cluster again (or the first time).
    pub fn dind_up(&self, extra: &[&str]) -> Output {
        let args = self.up_args(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        dind(&args, &[])
    }

    /// The file `up --kubeconfig` merges the cluster's context into.
    pub fn merged_kubeconfig(&self) -> PathBuf {
        self.dir.path().join("merged-kubeconfig")
    }

    /// Writes what `dind kubeconfig` prints, for kubectl.
    pub fn write_kubeconfig(&self) -> Result<()> {
        let out = dind(&["kubeconfig", "--cluster-id", &self.id.to_string()], &[]);
        if !out.status.success() {
            bail!("dind kubeconfig failed: {}", stderr(&out));
        }
        std::fs::write(&self.kubeconfig, stdout(&out))?;
        Ok(())
    }

    /// The container of node `base` (`kube-master`, `kube-node-1`) of this cluster.
    pub fn node(&self, base: &str) -> String {
        match self.id {
            0 => base.to_string(),
            id => format!("{base}-cluster-{id}"),
        }
    }

    /// Runs kubectl on the host, through the API port the master publishes.
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        self.kubectl_with_input(args, None)
    }

    /// `kubectl apply -f -` of `manifest`.
    pub fn apply(&self, manifest: &str) -> Result<String> {
        self.kubectl_with_input(&["apply", "-f", "-"], Some(manifest))
    }

    fn kubectl_with_input(&self, args: &[&str], input: Option<&str>) -> Result<String> {
        use std::io::Write;
        let mut child = Command::new(kubectl_program())
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run the kit's kubectl")?;
        if let Some(input) = input {
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(input.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "`kubectl {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `kubectl get ... -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let mut argv = vec!["get"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["-o", "json"]);
        Ok(serde_json::from_str(&self.kubectl(&argv)?)?)
    }

    /// Waits until pod `name` (namespace default) runs, naming its state when it does not.
    pub async fn wait_running(&self, name: &str, timeout: Duration) -> Result<serde_json::Value> {
        wait_for(&format!("pod {name} to run"), timeout, async || {
            let pod = self.get_json(&["pod", name])?;
            Ok(match pod["status"]["phase"].as_str() {
                Some("Running") => Check::Done(pod),
                phase => Check::NotYet(format!(
                    "phase {phase:?}, containers {}",
                    pod["status"]["containerStatuses"]
                )),
            })
        })
        .await
    }

    /// Runs `argv` in pod `name`'s first container (kubectl exec through the API server).
    pub fn exec(&self, pod: &str, argv: &[&str]) -> Result<String> {
        let mut args = vec!["exec", pod, "--"];
        args.extend_from_slice(argv);
        self.kubectl(&args)
    }

    pub fn down(&self) -> Output {
        super::down(self.id)
    }
}

impl Drop for KubeCluster {
    fn drop(&mut self) {
        super::down_in_cleanup(self.id);
    }
}

/// The test pods' image (tests/e2e/pod-image), built in the host's Docker: its tag.
pub async fn pod_image() -> Result<String> {
    let engine = engine().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/pod-image");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        files.push((
            entry.file_name().to_string_lossy().into_owned(),
            std::fs::read(entry.path())?,
        ));
    }
    let spec = ImageSpec::new("e2e-pod", files, None, Vec::new());
    images::ensure(&engine, &spec, &Progress::hidden().phase("pod image")).await?;
    Ok(spec.tag)
}

/// A pod of the test image on node `node`, running `command` (the image's idle one when
/// empty), with `labels`; it may run on the master.
pub fn pod_manifest(
    name: &str,
    image: &str,
    node: &str,
    labels: &[(&str, &str)],
    command: &[&str],
) -> String {
    let labels: String = labels
        .iter()
        .map(|(k, v)| format!("\n    {k}: {v}"))
        .collect();
    let command = match command {
        [] => String::new(),
        argv => format!("\n    command: {}", serde_json::to_string(argv).unwrap()),
    };
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels:
    e2e: pod{labels}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 1
  tolerations:
  - key: node-role.kubernetes.io/control-plane
    operator: Exists
  containers:
  - name: main
    image: {image}
    imagePullPolicy: Never{command}
"
    )
}
