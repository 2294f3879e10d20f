//! Fixtures for the end-to-end suites: a simulated Internet in a network namespace of its
//! own, clusters that are always taken down, pods made through a node's CNI config, and
//! snapshots of the host's routes and rules. Every fixture removes what it made on drop,
//! also when a test fails.
#![allow(dead_code)]

pub mod kube;
#[cfg(test)]
mod tests;
mod wait;

pub use wait::{wait_for, Check};

use anyhow::{anyhow, bail, Context, Result};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use dind::engine::docker::Engine;
use dind::engine::images::{self, ImageSpec};
use dind::progress::Progress;
use std::collections::HashMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const WAN_CONTAINER: &str = "dind-e2e-wan";
/// Host side of the veth pair to the simulated Internet: the tests' egress interface.
pub const HOST_IF: &str = "dind-wan0";
const WAN_IF: &str = "dind-wan1";
pub const HOST_V4: &str = "198.18.0.1";
pub const HOST_V6: &str = "fd00:ee::1";
pub const WAN_V4: &str = "198.18.0.10";
pub const WAN_V6: &str = "fd00:ee::10";
/// The simulated Internet's DNS at a second address, where it shows another view of the
/// names (split horizon): lab.test without app.lab.test, and no example.test (REFUSED).
pub const WAN_V4_OUTSIDE: &str = "198.18.0.11";
/// A name only the view at WAN_V4 knows (A: WAN_V4).
pub const LAB_NAME: &str = "app.lab.test";
/// WAN_V4 under the default DNS64 prefix.
pub const WAN_V4_SYNTHESIZED: &str = "fd00:10:64:ff9b::c612:a";

/// The suites share one simulated Internet and the host's rule tables: one test at a time,
/// across processes too (a file lock: other checkouts' suites, the benchmarks), and within
/// the test binary (a mutex), whose harness runs tests side by side.
pub struct Serial {
    _in_process: tokio::sync::MutexGuard<'static, ()>,
    _across_processes: std::fs::File,
}

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const LOCK_FILE: &str = "/tmp/dind-e2e.lock";

pub async fn serial() -> Serial {
    let in_process = SERIAL.lock().await;
    let file = tokio::task::spawn_blocking(|| {
        let file = match inherited_lock_file() {
            Some(file) => file,
            None => std::fs::File::create(LOCK_FILE)
                .unwrap_or_else(|e| panic!("cannot create {LOCK_FILE}: {e}")),
        };
        file.lock()
            .unwrap_or_else(|e| panic!("cannot lock {LOCK_FILE}: {e}"));
        file
    })
    .await
    .expect("lock task");
    Serial {
        _in_process: in_process,
        _across_processes: file,
    }
}

/// The lock file open in a descriptor this process inherited, as under
/// `flock /tmp/dind-e2e.lock cargo test`: locking through that same open file returns at
/// once when the ancestor holds the lock, where a fresh open would wait for it forever.
fn inherited_lock_file() -> Option<std::fs::File> {
    use std::os::fd::{BorrowedFd, RawFd};
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<RawFd>().ok())
        else {
            continue;
        };
        if target.as_os_str() == LOCK_FILE {
            // SAFETY: the descriptor is open (just listed), and only borrowed to duplicate
            // it; the duplicate shares the open file, and so its lock.
            let owned = unsafe { BorrowedFd::borrow_raw(fd) }
                .try_clone_to_owned()
                .ok()?;
            return Some(owned.into());
        }
    }
    None
}

/// Runs a host command (the tests run on the Docker host, as root) and returns stdout.
pub fn sh(argv: &[&str]) -> Result<String> {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .with_context(|| format!("cannot run {}", argv[0]))?;
    if !out.status.success() {
        bail!(
            "`{}` failed: {}",
            argv.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub async fn engine() -> Engine {
    assert_serial("support::engine()");
    Engine::connect()
        .await
        .expect("the end-to-end tests need a running Docker daemon (bash .ci/setup starts one)")
}

/// A raw Docker client, for what the tests do behind dind's back (dind's own engine keeps
/// its client to itself).
pub async fn docker() -> bollard::Docker {
    bollard::Docker::connect_with_defaults()
        .expect("a Docker client")
        .negotiate_version()
        .await
        .expect("the end-to-end tests need a running Docker daemon")
}

/// Panics when no test holds [`serial`]: a test that touches Docker or the host without it
/// would run beside another. (While another test holds it, a forgetful one goes unnoticed.)
fn assert_serial(what: &str) {
    assert!(
        SERIAL.try_lock().is_err(),
        "{what} called without `let _serial = serial().await;` first: tests in one binary run side by side"
    );
}

/// The simulated Internet: a container with no Docker networking whose namespace is joined
/// to the host by a veth pair. It holds an authoritative DNS server for example.test
/// (v4only: A; dual: A and AAAA; v6only: AAAA) and lab.test (app: A), with another view at
/// [`WAN_V4_OUTSIDE`], and an HTTP origin that answers with the client address it saw. It has an IPv4 default route back to the host but no IPv6 route
/// beyond its own /64: IPv6 replies only come back when the host masquerades.
pub struct Wan {
    engine: Engine,
}

impl Wan {
    pub async fn start() -> Result<Wan> {
        let engine = engine().await;
        remove_wan(&engine).await;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/wan-image");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            files.push((
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path())?,
            ));
        }
        let spec = ImageSpec::new("e2e-wan", files, None, Vec::new());
        images::ensure(&engine, &spec, &Progress::hidden().phase("wan image")).await?;

        let body = ContainerCreateBody {
            image: Some(spec.tag.clone()),
            labels: Some(HashMap::from([(
                "io.github.dind.e2e".to_string(),
                "wan".to_string(),
            )])),
            host_config: Some(HostConfig {
                network_mode: Some("none".into()),
                sysctls: Some(HashMap::from([
                    (
                        "net.ipv6.conf.all.disable_ipv6".to_string(),
                        "0".to_string(),
                    ),
                    (
                        "net.ipv6.conf.default.disable_ipv6".to_string(),
                        "0".to_string(),
                    ),
                ])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(WAN_CONTAINER)
            .build();
        docker().await.create_container(Some(options), body).await?;
        let wan = Wan {
            engine: engine.clone(),
        };
        docker().await.start_container(WAN_CONTAINER, None).await?;
        let pid = engine
            .inspect_container(WAN_CONTAINER)
            .await?
            .and_then(|c| c.state)
            .and_then(|s| s.pid)
            .context("the wan container has no pid")?
            .to_string();
        let in_wan = |args: &[&str]| -> Result<String> {
            let mut argv = vec!["nsenter", "-t", pid.as_str(), "-n"];
            argv.extend_from_slice(args);
            sh(&argv)
        };
        sh(&[
            "ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", WAN_IF,
        ])?;
        sh(&["ip", "link", "set", WAN_IF, "netns", &pid])?;
        in_wan(&["ip", "link", "set", "lo", "up"])?;
        in_wan(&["ip", "addr", "add", &format!("{WAN_V4}/24"), "dev", WAN_IF])?;
        in_wan(&[
            "ip",
            "addr",
            "add",
            &format!("{WAN_V4_OUTSIDE}/24"),
            "dev",
            WAN_IF,
        ])?;
        in_wan(&[
            "ip",
            "-6",
            "addr",
            "add",
            &format!("{WAN_V6}/64"),
            "dev",
            WAN_IF,
            "nodad",
        ])?;
        in_wan(&["ip", "link", "set", WAN_IF, "up"])?;
        in_wan(&["ip", "route", "add", "default", "via", HOST_V4])?;
        sh(&[
            "ip",
            "addr",
            "add",
            &format!("{HOST_V4}/24"),
            "dev",
            HOST_IF,
        ])?;
        sh(&[
            "ip",
            "-6",
            "addr",
            "add",
            &format!("{HOST_V6}/64"),
            "dev",
            HOST_IF,
            "nodad",
        ])?;
        sh(&["ip", "link", "set", HOST_IF, "up"])?;

        let probe = [
            "dig",
            "+short",
            "+time=1",
            "+tries=1",
            "@127.0.0.1",
            "dual.example.test",
            "AAAA",
        ];
        let deadline = Instant::now() + Duration::from_secs(30);
        wait_for(
            &format!(
                "the simulated Internet's DNS to answer `{}`",
                probe.join(" ")
            ),
            deadline - Instant::now(),
            async || {
                let out = engine.exec(WAN_CONTAINER, &probe).await?;
                Ok(if out.stdout.trim() == WAN_V6 {
                    Check::Done(())
                } else {
                    Check::NotYet(format!("{}{}", out.stdout, out.stderr))
                })
            },
        )
        .await?;
        // The second view answers once named has seen the second address.
        let outside = format!("@{WAN_V4_OUTSIDE}");
        let probe = [
            "dig", "+short", "+time=1", "+tries=1", &outside, "lab.test", "NS",
        ];
        wait_for(
            &format!(
                "the simulated Internet's second view to answer `{}`",
                probe.join(" ")
            ),
            deadline.saturating_duration_since(Instant::now()),
            async || {
                let out = engine.exec(WAN_CONTAINER, &probe).await?;
                Ok(if out.stdout.trim() == "ns.lab.test." {
                    Check::Done(())
                } else {
                    Check::NotYet(format!("{}{}", out.stdout, out.stderr))
                })
            },
        )
        .await?;
        let origin = std::net::SocketAddr::from(([198, 18, 0, 10], 80));
        wait_for(
            &format!("the simulated Internet's HTTP origin to listen on {origin}"),
            deadline.saturating_duration_since(Instant::now()),
            async || {
                let connect = tokio::net::TcpStream::connect(origin);
                Ok(
                    match tokio::time::timeout(Duration::from_secs(1), connect).await {
                        Ok(Ok(_)) => Check::Done(()),
                        Ok(Err(err)) => Check::NotYet(err.to_string()),
                        Err(_) => Check::NotYet("no answer within 1s".into()),
                    },
                )
            },
        )
        .await?;
        Ok(wan)
    }

    /// The origin's log: one line per request, with the client address it saw.
    pub async fn origin_log(&self) -> String {
        self.engine.log_tail(WAN_CONTAINER, 200).await
    }

    /// Runs `argv` in the simulated Internet's container (its network namespace).
    pub async fn exec(&self, argv: &[&str]) -> Result<String> {
        self.engine.exec_ok(WAN_CONTAINER, argv).await
    }
}

/// A host route the test added (`ip route add SPEC`), deleted on drop.
pub struct HostRoute {
    spec: Vec<String>,
}

impl HostRoute {
    pub fn add(spec: &[&str]) -> Result<HostRoute> {
        let mut argv = vec!["ip", "route", "add"];
        argv.extend_from_slice(spec);
        sh(&argv)?;
        Ok(HostRoute {
            spec: spec.iter().map(|s| s.to_string()).collect(),
        })
    }
}

impl Drop for HostRoute {
    fn drop(&mut self) {
        let mut argv = vec!["ip", "route", "del"];
        argv.extend(self.spec.iter().map(String::as_str));
        if let Err(err) = sh(&argv) {
            eprintln!("cannot remove the test's host route: {err:#}");
        }
    }
}

/// Removes the simulated Internet and waits until its veth is gone from the host: the
/// kernel tears a removed container's namespace down in the background, and the next test's
/// snapshot of the host must not see the veth's routes.
async fn remove_wan(engine: &Engine) {
    // Docker answers a removal already under way with 409, which remove_container takes as
    // done: ask until the container is not there, so the next start can make it again.
    for _ in 0..100 {
        let _ = engine.remove_container(WAN_CONTAINER).await;
        if matches!(engine.inspect_container(WAN_CONTAINER).await, Ok(None)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let gone = wait_for(
        &format!("{HOST_IF} to be gone"),
        Duration::from_secs(10),
        async || {
            let _ = Command::new("ip").args(["link", "del", HOST_IF]).output();
            let shown = Command::new("ip")
                .args(["link", "show", "dev", HOST_IF])
                .output()?;
            Ok(if shown.status.success() {
                Check::NotYet(String::from_utf8_lossy(&shown.stdout).into_owned())
            } else {
                Check::Done(())
            })
        },
    )
    .await;
    if let Err(err) = gone {
        eprintln!("removing the simulated Internet: {err:#}");
    }
}

impl Drop for Wan {
    fn drop(&mut self) {
        let engine = self.engine.clone();
        block_on_thread(async move { remove_wan(&engine).await });
    }
}

/// Runs a future to completion on a fresh runtime in another thread: usable from `Drop`
/// inside a test's runtime.
pub fn block_on_thread<F: std::future::Future<Output = ()> + Send + 'static>(future: F) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(future)
    })
    .join()
    .expect("cleanup thread");
}

fn dind_command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dind"));
    cmd.args(args);
    // Every variable dind reads for a setting: the developer's environment cannot leak in.
    for var in dind::config::env_var_names() {
        cmd.env_remove(var);
    }
    cmd.env_remove(dind::engine::lock::LOCK_TIMEOUT_ENV);
    // The suites' NAT64 engine: every `up` (and `doctor`, `--dry-run`) picks it from the
    // environment, so a second `up` matches the record; a test's own value wins.
    if let Some(engine) = nat64_engine() {
        cmd.env("DIND_NAT64_ENGINE", engine);
    }
    cmd.envs(env.iter().copied());
    cmd
}

/// Runs the suites with this NAT64 engine (`tayga`); unset: dind's default, dind-nat64.
pub const NAT64_ENGINE_ENV: &str = "DIND_E2E_NAT64_ENGINE";

/// The engine `DIND_E2E_NAT64_ENGINE` names, if any.
pub fn nat64_engine() -> Option<String> {
    std::env::var(NAT64_ENGINE_ENV)
        .ok()
        .filter(|engine| !engine.trim().is_empty())
}

/// Starts the dind binary, its output piped, and returns at once.
pub fn spawn_dind(args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    use std::process::Stdio;
    dind_command(args, env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the dind binary runs")
}

/// Runs the dind binary without blocking the test's runtime, so that several run at once.
pub fn dind_async(
    args: &[&str],
    env: &[(&str, &str)],
) -> impl std::future::Future<Output = Output> + Send + 'static {
    let mut command = tokio::process::Command::from(dind_command(args, env));
    command.stdin(std::process::Stdio::null());
    async move { command.output().await.expect("the dind binary runs") }
}

/// Runs the dind binary.
pub fn dind(args: &[&str], env: &[(&str, &str)]) -> Output {
    dind_command(args, env)
        .output()
        .expect("the dind binary runs")
}

/// Runs the dind binary with `input` on its stdin (for `--config -`).
pub fn dind_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = dind_command(args, &[]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the dind binary runs");
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(input.as_bytes())
        .expect("write to dind's stdin");
    child.wait_with_output().expect("dind finishes")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `dind up --no-kubernetes` of cluster `id`, its DNS64 forwarding to the simulated
/// Internet's resolver, with `extra` arguments.
pub fn up_args<'a>(id: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "up",
        "--no-kubernetes",
        "--cluster-id",
        id,
        "--upstream-dns",
        WAN_V4,
    ];
    args.extend_from_slice(extra);
    args
}

/// A cluster brought up with `--no-kubernetes`, its DNS64 forwarding to the simulated
/// Internet's resolver; `dind down` runs on drop.
pub struct Cluster {
    pub id: u8,
    pub suffix: String,
}

impl Cluster {
    pub fn up(id: u8, extra: &[&str]) -> Result<Cluster> {
        let id_text = id.to_string();
        let args = up_args(&id_text, extra);
        // The guard exists before `up` so that a half-made cluster is taken down too.
        let cluster = Cluster {
            id,
            suffix: if id == 0 {
                String::new()
            } else {
                format!("-cluster-{id}")
            },
        };
        let out = dind(&args, &[]);
        if !out.status.success() {
            bail!("dind up failed:\n{}", stderr(&out));
        }
        Ok(cluster)
    }

    pub fn name(&self, base: &str) -> String {
        format!("{base}{}", self.suffix)
    }

    pub fn down(&self) -> Output {
        down(self.id)
    }
}

/// `dind down` of cluster `id`.
pub fn down(id: u8) -> Output {
    dind(&["down", "--cluster-id", &id.to_string()], &[])
}

/// `dind down` of cluster `id` when a guard goes: a failure is said, not raised.
pub fn down_in_cleanup(id: u8) {
    let out = down(id);
    if !out.status.success() {
        eprintln!(
            "dind down --cluster-id {id} failed in cleanup: {}",
            stderr(&out)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        down_in_cleanup(self.id);
    }
}

/// What one `dind check network` run printed.
pub struct Outcome {
    pub passed: bool,
    /// The checks, as its JSON lists them (none for a table).
    pub checks: Vec<serde_json::Value>,
    pub stdout: String,
    pub stderr: String,
}

/// `dind check network` on cluster `id` for `names` (`output`: table or json), its
/// expectations from `host_resolver` when given; fails when asked for JSON it printed none.
pub fn try_check(
    id: u8,
    names: &[&str],
    host_resolver: Option<&str>,
    output: &str,
) -> Result<Outcome> {
    let id = id.to_string();
    let mut args = vec![
        "check",
        "network",
        "--cluster-id",
        &id,
        "--port",
        "80",
        "-o",
        output,
    ];
    if let Some(resolver) = host_resolver {
        args.extend(["--host-resolver", resolver]);
    }
    args.extend_from_slice(names);
    let out = dind(&args, &[]);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    let checks = if output == "json" {
        serde_json::from_str(&stdout).with_context(|| {
            format!("check network -o json printed no JSON:\n{stdout}\n{stderr}")
        })?
    } else {
        Vec::new()
    };
    Ok(Outcome {
        passed: out.status.success(),
        checks,
        stdout,
        stderr,
    })
}

/// [`try_check`] that must print what it found: no JSON, or an `error:` line, fails the test.
pub fn run_check(id: u8, names: &[&str], host_resolver: Option<&str>, output: &str) -> Outcome {
    let outcome = try_check(id, names, host_resolver, output).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        !outcome.stderr.lines().any(|l| l.starts_with("error:")),
        "check network stopped with an error:\n{}",
        outcome.stderr
    );
    outcome
}

/// `dind check network` on cluster `id` for `names`, with the simulated Internet's resolver
/// as the host's: whether every check passed, and the checks as its JSON lists them.
pub fn check_network(id: u8, names: &[&str]) -> Result<(bool, Vec<serde_json::Value>)> {
    let outcome = try_check(id, names, Some(WAN_V4), "json")?;
    Ok((outcome.passed, outcome.checks))
}

/// The checks that failed, as "check target".
pub fn failed_checks(checks: &[serde_json::Value]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| format!("{} {}", c["check"], c["target"]))
        .collect()
}

/// A pod: a network namespace on `node`, attached through the node's own CNI config.
pub struct Pod {
    engine: Engine,
    pub node: String,
    pub name: String,
    /// The first address: IPv6 when the pod has one.
    pub address: String,
}

impl Pod {
    pub async fn create(engine: &Engine, node: &str, name: &str) -> Result<Pod> {
        let address = engine
            .exec_ok(node, &["dind-pod", "add", name])
            .await?
            .trim()
            .to_string();
        Ok(Pod {
            engine: engine.clone(),
            node: node.to_string(),
            name: name.to_string(),
            address,
        })
    }

    pub async fn run(&self, argv: &[&str]) -> Result<dind::engine::docker::ExecOutput> {
        let mut full = vec!["dind-pod", "exec", self.name.as_str()];
        full.extend_from_slice(argv);
        self.engine.exec(&self.node, &full).await
    }

    /// Runs a shell script in the pod (`sh -c SCRIPT NAME ARGS...`: `$1`... are `args`).
    pub async fn sh(
        &self,
        script: &str,
        args: &[&str],
    ) -> Result<dind::engine::docker::ExecOutput> {
        let mut argv = vec!["sh", "-c", script, "sh"];
        argv.extend_from_slice(args);
        self.run(&argv).await
    }

    /// The AAAA answer the pod gets from its resolver (the cluster's DNS64).
    pub async fn aaaa(&self, name: &str) -> Result<String> {
        self.lookup(name, "AAAA").await
    }

    /// The answer of type `record_type` the pod gets from the resolver in its resolv.conf.
    pub async fn lookup(&self, name: &str, record_type: &str) -> Result<String> {
        let out = self
            .run(&["dig", "+short", "+time=2", "+tries=2", name, record_type])
            .await?;
        if !out.success() {
            bail!(
                "dig {name} {record_type} failed in pod {}: {}{}",
                self.name,
                out.stdout,
                out.stderr
            );
        }
        Ok(out.stdout.trim().to_string())
    }

    /// Serves one TCP connection on `port`, answering with the peer address it saw.
    pub async fn serve_once(&self, port: u16) -> Result<()> {
        let listen = format!("TCP6-LISTEN:{port},reuseaddr");
        let script = format!(
            "nohup dind-pod exec {} socat -T10 {listen} SYSTEM:'echo $SOCAT_PEERADDR' >/dev/null 2>&1 &",
            self.name
        );
        self.engine
            .exec_ok(&self.node, &["sh", "-c", &script])
            .await?;
        // Listening is the condition to wait on.
        let filter = format!("sport = :{port}");
        wait_for(
            &format!("pod {} to listen on port {port}", self.name),
            Duration::from_secs(10),
            async || {
                let out = self.run(&["ss", "-Hltn", &filter]).await?;
                Ok(if out.stdout.contains(&port.to_string()) {
                    Check::Done(())
                } else {
                    Check::NotYet(format!("`ss -Hltn {filter}`: {}{}", out.stdout, out.stderr))
                })
            },
        )
        .await
    }

    /// Connects to `address`:`port` and returns what the server said.
    pub async fn connect(&self, address: &str, port: u16) -> Result<String> {
        let out = self
            .run(&["socat", "-T5", "-", &format!("TCP6:[{address}]:{port}")])
            .await?;
        if !out.success() {
            bail!(
                "connecting to [{address}]:{port} from pod {} failed: {}",
                self.name,
                out.stderr.trim()
            );
        }
        Ok(out.stdout.trim().to_string())
    }

    /// GETs `url` and returns the body: the address the origin saw this pod as.
    pub async fn fetch(&self, url: &str) -> Result<String> {
        let out = self
            .run(&["curl", "-sS", "-g", "--max-time", "10", url])
            .await?;
        if !out.success() {
            bail!(
                "curl {url} failed in pod {}: {}",
                self.name,
                out.stderr.trim()
            );
        }
        Ok(out.stdout.trim().to_string())
    }
}

/// The host's routes and rules, for before/after comparisons. Counters and timestamps are
/// left out.
#[derive(Debug, PartialEq, Eq)]
pub struct HostState {
    pub ipv4_rules: String,
    pub ipv6_rules: String,
    pub ipv4_routes: String,
    pub ipv6_routes: String,
    pub ipv6_forwarding: String,
}

fn without_noise(save: &str) -> String {
    let lines: Vec<String> = save
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            if l.starts_with(':') {
                l.split(' ').take(2).collect::<Vec<_>>().join(" ")
            } else {
                l.to_string()
            }
        })
        .collect();
    without_empty_tables(&lines).join("\n")
}

/// A table with no rules and only ACCEPT policies filters nothing: the same as no table. (The
/// nft backend makes one the first time anything lists or changes it.)
fn without_empty_tables(lines: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut table: Vec<String> = Vec::new();
    for line in lines {
        if line.starts_with('*') {
            table = vec![line.clone()];
        } else if line == "COMMIT" && !table.is_empty() {
            table.push(line.clone());
            let filters_nothing = table[1..table.len() - 1]
                .iter()
                .all(|l| l.starts_with(':') && l.ends_with(" ACCEPT"));
            if !filters_nothing {
                kept.append(&mut table);
            }
            table.clear();
        } else if !table.is_empty() {
            table.push(line.clone());
        } else {
            kept.push(line.clone());
        }
    }
    kept.append(&mut table);
    kept
}

/// The filter table's FORWARD policy in ip6tables-save text; "ACCEPT" without a filter
/// table (which filters nothing).
fn forward_policy_in(save: &str) -> String {
    let mut table = "";
    for line in save.lines() {
        if let Some(name) = line.strip_prefix('*') {
            table = name.trim();
        } else if table == "filter" {
            if let Some(rest) = line.strip_prefix(":FORWARD ") {
                return rest
                    .split_whitespace()
                    .next()
                    .unwrap_or("ACCEPT")
                    .to_string();
            }
        }
    }
    "ACCEPT".to_string()
}

/// The host's ip6tables FORWARD policy now. Docker 28 and later set it to DROP when they
/// switch IPv6 forwarding on for a network; 20.10 never touches it.
pub fn ip6_forward_policy() -> String {
    forward_policy_in(
        &sh(&["ip6tables-save"])
            .unwrap_or_else(|err| panic!("cannot list the host's ip6tables rules: {err:#}")),
    )
}

/// Docker writes ip6tables rules of its own: its chains are in the host's ip6tables (Docker
/// 27 and later, whose ip6tables support is on by default). Debian 12's 20.10 writes none.
/// Then Docker masquerades each IPv6 network's subnet itself, and (28 and later) accepts
/// what the network's bridge forwards, so dind adds neither.
pub fn docker_writes_ipv6_rules() -> bool {
    sh(&["ip6tables-save", "-t", "filter"])
        .unwrap_or_else(|err| panic!("cannot list the host's ip6tables rules: {err:#}"))
        .lines()
        .any(|l| l.starts_with(":DOCKER-USER ") || l.starts_with(":DOCKER-FORWARD "))
}

/// The Docker daemon's major version (20 for 20.10, 28, 29...).
pub fn docker_major() -> u32 {
    let version = sh(&["docker", "version", "--format", "{{.Server.Version}}"])
        .unwrap_or_else(|err| panic!("cannot ask Docker for its version: {err:#}"));
    version
        .trim()
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("not a Docker version: {version:?}"))
}

/// Puts IPv6 forwarding and the ip6tables FORWARD policy back as `before` had them, after a
/// scenario failed with them changed, so that one failure does not show again in every
/// later scenario (a cluster's `up` records what it found).
pub fn restore_forwarding(before: &HostState) -> Result<()> {
    std::fs::write(IPV6_FORWARDING, before.ipv6_forwarding.trim())?;
    let policy = before.ip6_forward_policy();
    if ip6_forward_policy() != policy {
        sh(&["ip6tables", "-w", "-t", "filter", "-P", "FORWARD", &policy])?;
    }
    Ok(())
}

/// "linkdown" only says whether some container sits on that bridge right now.
fn without_linkdown(routes: &str) -> String {
    routes.replace(" linkdown", "")
}

impl HostState {
    /// The ip6tables FORWARD policy of the snapshot.
    pub fn ip6_forward_policy(&self) -> String {
        forward_policy_in(&self.ipv6_rules)
    }

    /// Fails the test when a tool is missing or fails, or when a part that is never empty
    /// on a Docker host comes back empty: two empty snapshots compare equal and prove
    /// nothing.
    pub fn capture() -> HostState {
        HostState::capture_with(&sh, &|path| std::fs::read_to_string(path))
            .unwrap_or_else(|err| panic!("cannot take a snapshot of the host: {err:#}"))
    }

    fn capture_with(
        run: &dyn Fn(&[&str]) -> Result<String>,
        read: &dyn Fn(&str) -> std::io::Result<String>,
    ) -> Result<HostState> {
        // Docker's own chains (DOCKER, DOCKER-USER) are always there; the routes always
        // hold the local table's and, on an IPv6 host, the link-local ones. ip6tables may
        // hold nothing that filters: that part alone may be empty.
        let nonempty = |argv: &[&str], text: String| {
            if text.trim().is_empty() {
                Err(anyhow!("`{}` printed nothing", argv.join(" ")))
            } else {
                Ok(text)
            }
        };
        let ipv4_save = ["iptables-save"];
        let ipv4_routes = ["ip", "-4", "route", "show", "table", "all"];
        let ipv6_routes = ["ip", "-6", "route", "show", "table", "main"];
        let forwarding =
            read(IPV6_FORWARDING).with_context(|| format!("cannot read {IPV6_FORWARDING}"))?;
        if !matches!(forwarding.trim(), "0" | "1") {
            bail!("{IPV6_FORWARDING} holds {forwarding:?}, not 0 or 1");
        }
        Ok(HostState {
            ipv4_rules: nonempty(&ipv4_save, without_noise(&run(&ipv4_save)?))?,
            ipv6_rules: without_noise(&run(&["ip6tables-save"])?),
            ipv4_routes: nonempty(&ipv4_routes, without_linkdown(&run(&ipv4_routes)?))?,
            ipv6_routes: nonempty(&ipv6_routes, without_linkdown(&run(&ipv6_routes)?))?,
            ipv6_forwarding: forwarding,
        })
    }
}

/// The host's ip6tables rules tagged `tag`; fails the test when ip6tables-save does.
pub fn ip6tables_lines_with(tag: &str) -> Vec<String> {
    let needle = format!("\"{tag}\"");
    let plain = format!("--comment {tag} ");
    sh(&["ip6tables-save"])
        .unwrap_or_else(|err| panic!("cannot list the host's ip6tables rules: {err:#}"))
        .lines()
        .filter(|l| l.contains(&needle) || l.contains(&plain))
        .map(str::to_string)
        .collect()
}

/// The IPv6 clients tayga has mapped into its IPv4 pool, from its log
/// ("assigned new pool address 172.18.0.x (fd00:20::3)").
pub async fn nat64_clients(engine: &Engine, tayga: &str) -> Vec<String> {
    engine
        .log_tail(tayga, 1000)
        .await
        .lines()
        .filter(|l| l.contains("pool address"))
        .filter_map(|l| Some(l.rsplit_once('(')?.1.trim_end_matches(')').to_string()))
        .collect()
}

/// Names of containers and networks on the Docker host, to show that a failed command
/// created nothing.
pub async fn docker_objects(engine: &Engine) -> (Vec<String>, Vec<String>) {
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .build();
    let containers = docker()
        .await
        .list_containers(Some(options))
        .await
        .expect("list containers");
    let networks = engine.all_networks().await.expect("list networks");
    sorted_names(containers, networks)
}

/// Names of the containers and networks labelled as cluster `id`'s.
pub async fn labelled(engine: &Engine, id: u8) -> (Vec<String>, Vec<String>) {
    let id = id.to_string();
    let filter = [(dind::labels::CLUSTER, id.as_str())];
    let containers = engine
        .containers_with(&filter)
        .await
        .expect("list containers");
    let networks = engine.networks_with(&filter).await.expect("list networks");
    sorted_names(containers, networks)
}

fn sorted_names(
    containers: Vec<bollard::models::ContainerSummary>,
    networks: Vec<bollard::models::Network>,
) -> (Vec<String>, Vec<String>) {
    let mut containers: Vec<String> = containers
        .into_iter()
        .filter_map(|c| Some(c.names?.first()?.trim_start_matches('/').to_string()))
        .collect();
    containers.sort();
    let mut networks: Vec<String> = networks.into_iter().filter_map(|n| n.name).collect();
    networks.sort();
    (containers, networks)
}

/// A test-owned ip6tables rule, removed on drop.
pub struct HostRule {
    spec: Vec<String>,
}

impl HostRule {
    /// Appends `spec` (everything after the chain name) to FORWARD.
    pub fn append_forward(spec: &[&str]) -> HostRule {
        let rule = HostRule {
            spec: spec.iter().map(|s| s.to_string()).collect(),
        };
        let mut argv = vec!["ip6tables", "-A", "FORWARD"];
        argv.extend_from_slice(spec);
        sh(&argv).expect("add a test rule");
        rule
    }
}

impl Drop for HostRule {
    fn drop(&mut self) {
        let mut argv = vec!["ip6tables", "-D", "FORWARD"];
        argv.extend(self.spec.iter().map(String::as_str));
        let _ = sh(&argv);
    }
}

/// A Docker network that dind did not make, removed on drop. Docker switches the host's
/// IPv6 forwarding on for it (and 28 and later set the ip6tables FORWARD policy to DROP as
/// they do); the drop puts both back.
pub struct ForeignNetwork {
    engine: Engine,
    name: String,
    forwarding_before: String,
    policy_before: String,
}

pub const IPV6_FORWARDING: &str = "/proc/sys/net/ipv6/conf/all/forwarding";

impl ForeignNetwork {
    pub async fn create(engine: &Engine, name: &str, subnet: &str) -> ForeignNetwork {
        use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
        let network = ForeignNetwork {
            engine: engine.clone(),
            name: name.to_string(),
            forwarding_before: std::fs::read_to_string(IPV6_FORWARDING)
                .unwrap_or_else(|err| panic!("cannot read {IPV6_FORWARDING}: {err}")),
            policy_before: ip6_forward_policy(),
        };
        let _ = engine.remove_network(name).await;
        docker()
            .await
            .create_network(NetworkCreateRequest {
                name: name.to_string(),
                driver: Some("bridge".into()),
                enable_ipv6: Some(true),
                ipam: Some(Ipam {
                    config: Some(vec![IpamConfig {
                        subnet: Some(subnet.to_string()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("create the foreign network");
        network
    }
}

impl Drop for ForeignNetwork {
    fn drop(&mut self) {
        let (engine, name) = (self.engine.clone(), self.name.clone());
        block_on_thread(async move {
            if let Err(err) = engine.remove_network(&name).await {
                eprintln!("cannot remove the foreign network {name}: {err:#}");
            }
        });
        if let Err(err) = std::fs::write(IPV6_FORWARDING, self.forwarding_before.trim()) {
            eprintln!("cannot put {IPV6_FORWARDING} back: {err}");
        }
        let policy = &self.policy_before;
        if let Err(err) = sh(&["ip6tables", "-w", "-t", "filter", "-P", "FORWARD", policy]) {
            eprintln!("cannot put the ip6tables FORWARD policy back to {policy}: {err:#}");
        }
    }
}

/// Names of the volumes on the Docker host, sorted.
pub async fn docker_volumes() -> Vec<String> {
    let volumes = docker()
        .await
        .list_volumes(None::<bollard::query_parameters::ListVolumesOptions>)
        .await
        .expect("list volumes");
    let mut names: Vec<String> = volumes
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    names.sort();
    names
}
