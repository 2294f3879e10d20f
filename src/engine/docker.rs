//! A thin layer over bollard: connection with version negotiation, containers created from
//! render's specs, exec with exit codes, file upload, and removal that treats "already gone"
//! as success. The rest of the crate sees typed methods, never the bollard client.

use super::body::{container_body, network_request};
use super::error::{kind, ErrorKind};
use crate::render::containers::{ContainerSpec, NetworkSpec};
use crate::render::{FileSpec, ProgramFile};
use anyhow::{anyhow, bail, Context, Result};
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerInspectResponse, ContainerSummary, NetworkInspect, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    ListVolumesOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveVolumeOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    pub(crate) server_version: String,
    pub(crate) api_version: String,
    /// The daemon listens on this machine's socket: its host's loopback is ours.
    pub local: bool,
}

#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub(crate) code: i64,
    pub stdout: String,
    pub stderr: String,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// A `label=KEY=VALUE` filter for list calls.
pub(crate) fn label_filter(labels: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    let values = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    HashMap::from([("label".to_string(), values)])
}

/// A `label=KEY` filter: the label with any value.
fn label_key_filter(key: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![key.to_string()])])
}

impl Engine {
    /// Connects to the daemon named by DOCKER_HOST (or the local socket) and settles on the
    /// highest API version both sides speak.
    pub async fn connect() -> Result<Engine> {
        let host =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        let unreachable = || {
            format!(
                "cannot reach the Docker daemon at {host}; is it running, and is DOCKER_HOST right? \
                 (start it with `dockerd` or `systemctl start docker`)"
            )
        };
        let docker = Docker::connect_with_defaults().with_context(unreachable)?;
        let docker = docker.negotiate_version().await.with_context(unreachable)?;
        let version = docker.version().await.with_context(unreachable)?;
        Ok(Engine {
            docker,
            server_version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            local: host.starts_with("unix://") || host.starts_with('/'),
        })
    }

    /// The raw client, for the other engine modules only.
    pub(super) fn api(&self) -> &Docker {
        &self.docker
    }

    /// Runs `argv` in a running container and collects its output and exit code.
    pub async fn exec(&self, container: &str, argv: &[&str]) -> Result<ExecOutput> {
        self.exec_showing(container, argv, &|_| {}).await
    }

    /// [`exec`](Self::exec), handing each complete line of output (stdout or stderr) to
    /// `show` as it arrives.
    pub(crate) async fn exec_showing(
        &self,
        container: &str,
        argv: &[&str],
        show: &(dyn Fn(&str) + Sync),
    ) -> Result<ExecOutput> {
        let (code, stdout, stderr) = self.exec_bytes(container, argv, show).await?;
        Ok(ExecOutput {
            code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    /// [`exec_showing`](Self::exec_showing), with the output as the bytes it printed:
    /// its exit code, stdout and stderr.
    pub(crate) async fn exec_bytes(
        &self,
        container: &str,
        argv: &[&str],
        show: &(dyn Fn(&str) + Sync),
    ) -> Result<(i64, Vec<u8>, Vec<u8>)> {
        let created = self
            .docker
            .create_exec(
                container,
                CreateExecOptions {
                    cmd: Some(argv.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("cannot run `{}` in container {container}", argv.join(" ")))?;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut lines = LineSplitter::default();
        if let StartExecResults::Attached { mut output, .. } =
            self.docker.start_exec(&created.id, None).await?
        {
            while let Some(chunk) = output.next().await {
                match chunk? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        lines.push(&message, show);
                        stdout.extend_from_slice(&message)
                    }
                    LogOutput::StdErr { message } => {
                        lines.push(&message, show);
                        stderr.extend_from_slice(&message)
                    }
                    LogOutput::StdIn { .. } => {}
                }
            }
        }
        lines.flush(show);
        let inspect = self.docker.inspect_exec(&created.id).await?;
        Ok((inspect.exit_code.unwrap_or(-1), stdout, stderr))
    }

    /// Like [`exec`](Self::exec), but a non-zero exit is an error carrying the output.
    pub async fn exec_ok(&self, container: &str, argv: &[&str]) -> Result<String> {
        let out = self.exec(container, argv).await?;
        if !out.success() {
            bail!(
                "`{}` in container {container} exited with {}: {}",
                argv.join(" "),
                out.code,
                first_lines(&format!("{}{}", out.stderr, out.stdout), 12)
            );
        }
        Ok(out.stdout)
    }

    /// Creates the container `spec` describes (not started); its id.
    pub(crate) async fn create(&self, spec: &ContainerSpec) -> Result<String> {
        let options = spec
            .name
            .as_deref()
            .map(|name| CreateContainerOptionsBuilder::default().name(name).build());
        let created = self
            .docker
            .create_container(options, container_body(spec))
            .await
            .with_context(|| match &spec.name {
                Some(name) => format!("cannot create container {name}"),
                None => format!("cannot create a container from image {}", spec.image),
            })?;
        Ok(created.id)
    }

    /// Starts a created container. One that runs already is left as it is (Docker answers
    /// 304, which bollard passes as success).
    pub(crate) async fn start(&self, container: &str) -> Result<()> {
        self.docker
            .start_container(container, None)
            .await
            .with_context(|| format!("cannot start container {container}"))
    }

    /// Creates the container `spec` describes, runs it until it exits and removes it, also
    /// when the run fails; its exit code and output. `what` names the command in errors.
    pub async fn run_to_end(&self, spec: &ContainerSpec, what: &str) -> Result<(i64, String)> {
        let id = self
            .create(spec)
            .await
            .with_context(|| format!("cannot create a container for {what}"))?;
        let result = self.start_and_wait(&id, what).await;
        let removed = self.remove_container(&id).await;
        let outcome = result?;
        removed?;
        Ok(outcome)
    }

    /// Starts a created container and waits for its exit code and output.
    pub(crate) async fn start_and_wait(&self, id: &str, what: &str) -> Result<(i64, String)> {
        self.docker
            .start_container(id, None)
            .await
            .with_context(|| format!("cannot start {what}"))?;
        let mut wait = self
            .docker
            .wait_container(id, None::<bollard::query_parameters::WaitContainerOptions>);
        let code = match wait.next().await {
            Some(Ok(response)) => response.status_code,
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(DockerError::DockerContainerWaitError { code, .. })) => code,
            Some(Err(e)) => return Err(e).with_context(|| format!("waiting for {what} failed")),
            None => bail!("{what} ended without an exit code"),
        };
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .build();
        let mut logs = self.docker.logs(id, Some(options));
        let mut output = String::new();
        while let Some(chunk) = logs.next().await {
            let chunk = chunk.with_context(|| format!("cannot read the output of {what}"))?;
            output.push_str(&chunk.to_string());
        }
        Ok((code, output))
    }

    /// Creates the network `spec` describes.
    pub(crate) async fn create_network(&self, spec: &NetworkSpec) -> Result<()> {
        self.docker
            .create_network(network_request(spec))
            .await
            .with_context(|| format!("cannot create network {}", spec.name))?;
        Ok(())
    }

    /// Places `files` in a (created, maybe not started) container.
    pub(crate) async fn upload_files(&self, container: &str, files: &[FileSpec]) -> Result<()> {
        self.upload_files_and_programs(container, files, &[]).await
    }

    /// Places `files` and `programs` (their bytes as read from this machine) in a
    /// (created, maybe not started) container, in one archive.
    pub(crate) async fn upload_files_and_programs(
        &self,
        container: &str,
        files: &[FileSpec],
        programs: &[(ProgramFile, &[u8])],
    ) -> Result<()> {
        let entries = files
            .iter()
            .map(|f| (f.path.as_str(), f.mode, f.contents.as_bytes()))
            .chain(programs.iter().map(|(p, bytes)| (p.path, p.mode, *bytes)));
        let mut archive = tar::Builder::new(Vec::new());
        for (path, mode, contents) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(mode);
            header.set_mtime(0);
            header.set_cksum();
            archive
                .append_data(&mut header, path.trim_start_matches('/'), contents)
                .with_context(|| format!("cannot pack {path}"))?;
        }
        let bytes = archive
            .into_inner()
            .context("cannot finish the upload archive")?;
        let options = UploadToContainerOptionsBuilder::default().path("/").build();
        self.docker
            .upload_to_container(container, Some(options), bollard::body_full(bytes.into()))
            .await
            .with_context(|| format!("cannot place configuration files in container {container}"))
    }

    pub async fn inspect_container(&self, name: &str) -> Result<Option<ContainerInspectResponse>> {
        match self.docker.inspect_container(name, None).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if kind(&e) == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot inspect container {name}")),
        }
    }

    pub async fn inspect_network(&self, name: &str) -> Result<Option<NetworkInspect>> {
        match self.docker.inspect_network(name, None).await {
            Ok(n) => Ok(Some(n)),
            Err(e) if kind(&e) == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot inspect network {name}")),
        }
    }

    pub async fn containers_with(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerSummary>> {
        self.list_containers(label_filter(labels)).await
    }

    /// Every container, running or not, that has label `key` with any value.
    pub(crate) async fn containers_having(&self, key: &str) -> Result<Vec<ContainerSummary>> {
        self.list_containers(label_key_filter(key)).await
    }

    async fn list_containers(
        &self,
        filters: HashMap<String, Vec<String>>,
    ) -> Result<Vec<ContainerSummary>> {
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        self.docker
            .list_containers(Some(options))
            .await
            .context("cannot list containers")
    }

    pub async fn networks_with(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<Vec<bollard::models::Network>> {
        self.list_networks(label_filter(labels)).await
    }

    /// Every network that has label `key` with any value.
    pub(crate) async fn networks_having(&self, key: &str) -> Result<Vec<bollard::models::Network>> {
        self.list_networks(label_key_filter(key)).await
    }

    async fn list_networks(
        &self,
        filters: HashMap<String, Vec<String>>,
    ) -> Result<Vec<bollard::models::Network>> {
        let options = ListNetworksOptionsBuilder::default()
            .filters(&filters)
            .build();
        self.docker
            .list_networks(Some(options))
            .await
            .context("cannot list networks")
    }

    pub async fn all_networks(&self) -> Result<Vec<bollard::models::Network>> {
        self.docker
            .list_networks(None)
            .await
            .context("cannot list networks")
    }

    /// The names of the volumes with these labels.
    pub(crate) async fn volumes_with(&self, labels: &[(&str, &str)]) -> Result<Vec<String>> {
        let options = ListVolumesOptionsBuilder::default()
            .filters(&label_filter(labels))
            .build();
        Ok(self
            .docker
            .list_volumes(Some(options))
            .await
            .context("cannot list volumes")?
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect())
    }

    /// The labels of a volume; None when it does not exist.
    pub(crate) async fn volume_labels(
        &self,
        name: &str,
    ) -> Result<Option<HashMap<String, String>>> {
        match self.docker.inspect_volume(name).await {
            Ok(volume) => Ok(Some(volume.labels)),
            Err(e) if kind(&e) == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot inspect volume {name}")),
        }
    }

    /// Creates a named volume with these labels; one that exists already is kept as it is.
    pub(crate) async fn create_volume(&self, name: &str, labels: &[(&str, &str)]) -> Result<()> {
        let request = bollard::models::VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        };
        self.docker
            .create_volume(request)
            .await
            .with_context(|| format!("cannot create volume {name}"))?;
        Ok(())
    }

    /// Removes a volume; one already gone (another `dind` removed it) is no error.
    pub(crate) async fn remove_volume(&self, name: &str) -> Result<()> {
        match self
            .docker
            .remove_volume(name, Some(RemoveVolumeOptionsBuilder::default().build()))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if kind(&e) == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot remove volume {name}")),
        }
    }

    /// The host port `container` publishes `container_port` (`6443/tcp`) on: the one fixed
    /// at create time, else the one Docker picked at this start. Err when the container does
    /// not exist.
    pub(crate) async fn published_port(
        &self,
        container: &str,
        container_port: &str,
    ) -> Result<Option<u16>> {
        let inspect = self
            .inspect_container(container)
            .await?
            .with_context(|| format!("container {container} does not exist"))?;
        let first_port = |bindings: Option<Vec<PortBinding>>| {
            bindings?
                .into_iter()
                .find_map(|b| b.host_port.filter(|p| !p.is_empty())?.parse::<u16>().ok())
        };
        let fixed = inspect
            .host_config
            .and_then(|h| h.port_bindings)
            .and_then(|ports| first_port(ports.get(container_port).cloned().flatten()));
        let current = || {
            inspect
                .network_settings
                .and_then(|s| s.ports)
                .and_then(|ports| first_port(ports.get(container_port).cloned().flatten()))
        };
        Ok(fixed.or_else(current))
    }

    /// All of a container's output so far, chunk by chunk.
    pub(crate) fn logs(&self, container: &str) -> BoxStream<'_, Result<Vec<u8>>> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .build();
        self.docker
            .logs(container, Some(options))
            .map(|chunk| Ok(chunk?.into_bytes().to_vec()))
            .boxed()
    }

    /// Force-removes a container and its anonymous volumes; true when it existed.
    pub async fn remove_container(&self, name: &str) -> Result<bool> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(name, Some(options)).await {
            Ok(()) => Ok(true),
            Err(e) if kind(&e) == ErrorKind::NotFound => Ok(false),
            // Docker answers 409 while a removal of the same container is already under way.
            Err(e) if kind(&e) == ErrorKind::Conflict => Ok(true),
            Err(e) => Err(e).with_context(|| format!("cannot remove container {name}")),
        }
    }

    /// Removes a network; true when it existed.
    pub async fn remove_network(&self, name: &str) -> Result<bool> {
        match self.docker.remove_network(name).await {
            Ok(()) => Ok(true),
            Err(e) if kind(&e) == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("cannot remove network {name}")),
        }
    }

    /// The last `lines` lines of a container's output, for error messages.
    pub async fn log_tail(&self, container: &str, lines: usize) -> String {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(container, Some(options));
        let mut text = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            text.push_str(&chunk.to_string());
        }
        text.trim_end().to_string()
    }

    /// What Docker says about `container`'s process; [`ContainerState::Missing`] when
    /// Docker has no such container.
    pub(crate) async fn container_state(&self, container: &str) -> Result<ContainerState> {
        Ok(match self.inspect_container(container).await? {
            Some(inspect) => state_of(&inspect.state.unwrap_or_default()),
            None => ContainerState::Missing,
        })
    }

    pub async fn is_running(&self, container: &str) -> Result<bool> {
        Ok(self
            .inspect_container(container)
            .await?
            .and_then(|c| c.state)
            .and_then(|s| s.running)
            .unwrap_or(false))
    }

    /// Follows a container's output until a line ends with `marker`: readiness announced by
    /// the container itself, with no polling. Fails with the last lines when the container
    /// stops first, or after `timeout`.
    pub(crate) async fn wait_for_line(
        &self,
        container: &str,
        marker: &str,
        timeout: Duration,
    ) -> Result<()> {
        let options = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .build();
        let mut stream = self.docker.logs(container, Some(options));
        let mut pending = String::new();
        let watch = async {
            while let Some(chunk) = stream.next().await {
                pending.push_str(
                    &chunk
                        .with_context(|| format!("cannot follow the output of {container}"))?
                        .to_string(),
                );
                while let Some(end) = pending.find('\n') {
                    if pending[..end].trim_end().ends_with(marker) {
                        return Ok(true);
                    }
                    pending.drain(..=end);
                }
                if pending.trim_end().ends_with(marker) {
                    return Ok(true);
                }
            }
            Ok::<_, anyhow::Error>(false)
        };
        match tokio::time::timeout(timeout, watch).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => bail!(
                "container {container} stopped while starting; its last output:\n{}",
                indent(&self.log_tail(container, 20).await)
            ),
            Ok(Err(err)) => Err(err),
            Err(_) => bail!(
                "container {container} did not report `{marker}` within {timeout:?}; its last output:\n{}",
                indent(&self.log_tail(container, 20).await)
            ),
        }
    }

    /// Polls `probe` (an exec in `container`) until it exits 0. Fails early, with the
    /// container's last log lines, when the container stops; fails with the probe's last
    /// output on timeout.
    pub(crate) async fn wait_ready(
        &self,
        container: &str,
        probe: &[&str],
        timeout: Duration,
    ) -> Result<()> {
        let start = Instant::now();
        let mut backoff =
            super::backoff::Backoff::new(Duration::from_millis(50), Duration::from_millis(500));
        loop {
            if !self.is_running(container).await? {
                bail!(
                    "container {container} stopped while starting; its last output:\n{}",
                    indent(&self.log_tail(container, 20).await)
                );
            }
            let out = self.exec(container, probe).await?;
            if out.success() {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(anyhow!(
                    "container {container} was not ready after {:?}: `{}` kept failing: {}\nits last output:\n{}",
                    timeout,
                    probe.join(" "),
                    first_lines(&format!("{}{}", out.stderr, out.stdout), 5),
                    indent(&self.log_tail(container, 20).await)
                ));
            }
            backoff.wait().await;
        }
    }
}

/// A container's process as far as a caller needs to tell: whether commands can run in it,
/// and if not, what would start it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ContainerState {
    Running,
    Paused,
    /// Docker is starting it again after it exited (its restart policy).
    Restarting,
    /// Created and never started, exited, being removed or dead: Docker's word for it and
    /// the last exit code.
    Stopped {
        status: String,
        exit_code: i64,
    },
    Missing,
}

fn state_of(state: &bollard::models::ContainerState) -> ContainerState {
    use bollard::models::ContainerStateStatusEnum as Status;
    match state.status {
        Some(Status::RUNNING) => ContainerState::Running,
        Some(Status::PAUSED) => ContainerState::Paused,
        Some(Status::RESTARTING) => ContainerState::Restarting,
        // Older daemons may leave the status out; the flags say the same.
        None | Some(Status::EMPTY) if state.paused == Some(true) => ContainerState::Paused,
        None | Some(Status::EMPTY) if state.running == Some(true) => ContainerState::Running,
        status => ContainerState::Stopped {
            status: status
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "stopped".into()),
            exit_code: state.exit_code.unwrap_or(0),
        },
    }
}

pub(crate) fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim().lines().take(n).collect();
    lines.join("\n")
}

pub(crate) fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Engine {
    /// A file of a container, running or stopped, through the archive API; None when the
    /// path does not exist.
    pub(crate) async fn read_file(&self, container: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let options = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = self
            .docker
            .download_from_container(container, Some(options));
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => archive.extend_from_slice(&bytes),
                Err(e) if kind(&e) == ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot read {path} in container {container}"))
                }
            }
        }
        let mut entries = tar::Archive::new(archive.as_slice());
        let mut entry = entries
            .entries()?
            .next()
            .with_context(|| format!("Docker sent an empty archive for {path} in {container}"))??;
        let mut contents = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut contents)
            .with_context(|| format!("cannot unpack {path} of container {container}"))?;
        Ok(Some(contents))
    }
}

/// A listed container's name, without Docker's leading `/`; None when Docker gave none.
pub(crate) fn container_name(container: &ContainerSummary) -> Option<String> {
    let first = container.names.as_ref()?.first()?;
    Some(first.trim_start_matches('/').to_string())
}

/// Output chunks cut into lines; the rest of a line waits for its end.
#[derive(Default)]
struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    fn push(&mut self, chunk: &[u8], show: &(dyn Fn(&str) + Sync)) {
        self.partial.extend_from_slice(chunk);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            show(String::from_utf8_lossy(&line).trim_end());
        }
    }

    fn flush(&mut self, show: &(dyn Fn(&str) + Sync)) {
        if !self.partial.is_empty() {
            show(String::from_utf8_lossy(&std::mem::take(&mut self.partial)).trim_end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerState as Inspected, ContainerStateStatusEnum as Status};

    #[test]
    fn output_chunks_are_shown_as_whole_lines() {
        let shown = std::sync::Mutex::new(Vec::<String>::new());
        let show = |line: &str| shown.lock().unwrap().push(line.to_string());
        let mut lines = LineSplitter::default();
        lines.push(b"[init] Using Kubernetes ver", &show);
        lines.push(b"sion: v1.36.0\r\n[preflight] Running\n", &show);
        lines.push(b"last line without end", &show);
        lines.flush(&show);
        assert_eq!(
            *shown.lock().unwrap(),
            [
                "[init] Using Kubernetes version: v1.36.0",
                "[preflight] Running",
                "last line without end"
            ]
        );
    }

    #[test]
    fn container_states_follow_dockers_status() {
        let of = |status, running, paused, exit_code| {
            state_of(&Inspected {
                status,
                running: Some(running),
                paused: Some(paused),
                exit_code: Some(exit_code),
                ..Default::default()
            })
        };
        assert_eq!(
            of(Some(Status::RUNNING), true, false, 0),
            ContainerState::Running
        );
        // A paused container is running too, by its flag; the status tells them apart.
        assert_eq!(
            of(Some(Status::PAUSED), true, true, 0),
            ContainerState::Paused
        );
        assert_eq!(
            of(Some(Status::RESTARTING), true, false, 1),
            ContainerState::Restarting
        );
        assert_eq!(
            of(Some(Status::EXITED), false, false, 137),
            ContainerState::Stopped {
                status: "exited".into(),
                exit_code: 137
            }
        );
        assert_eq!(
            of(Some(Status::CREATED), false, false, 0),
            ContainerState::Stopped {
                status: "created".into(),
                exit_code: 0
            }
        );
        assert_eq!(of(None, true, false, 0), ContainerState::Running);
        assert_eq!(
            of(None, false, false, 2),
            ContainerState::Stopped {
                status: "stopped".into(),
                exit_code: 2
            }
        );
    }
}
