//! `dind export logs`: a cluster's state, for a bug report. Every container's logs,
//! inspect output, addresses, routes and rules; tayga's map and bind9's config; the host's
//! rules and routes; the cluster's record and status. Written to DIR, then DIR.tar.gz.
//! What cannot be collected (a tool missing in an image, a stopped container) is written
//! into its file as the reason, so one gap never hides the rest.

use crate::engine::docker::{container_name, Engine};
use crate::engine::host::HostNet;
use crate::engine::images::{self, ImageKind};
use crate::labels::{self, Record, Role};
use crate::plan;
use crate::progress::Progress;
use crate::render::kubeadm;
use crate::render::tayga;
use crate::state::{find_record, status};
use anyhow::{bail, Context, Result};
use futures_util::future::try_join_all;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

pub(crate) struct Written {
    pub(crate) dir: PathBuf,
    pub(crate) archive: PathBuf,
}

/// Query-log lines kept from bind9's output.
const QUERYLOG_LINES: usize = 200;

/// Where the contents of one exported file come from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    /// `docker logs`, stdout and stderr.
    Logs,
    Inspect,
    /// A file inside the container (read through the archive API, so also when stopped).
    File(String),
    /// Commands run in the container; their outputs follow one another.
    Exec(Vec<Vec<&'static str>>),
    /// tayga's "assigned new pool address" lines, from its logs.
    TaygaMappings,
    /// The last query-log lines of named, from its logs.
    QueryLog,
}

/// The files exported for a container of `role`, in writing order (the log-derived ones
/// come after logs.txt).
fn layout(role: Option<Role>, kubernetes: bool) -> Vec<(&'static str, Source)> {
    let mut files = every_container_files();
    files.extend(translator_files(role));
    if kubernetes && matches!(role, Some(Role::Master | Role::Worker)) {
        files.extend(kubernetes_node_files());
        if role == Some(Role::Master) {
            files.push(("kubectl-get.txt", kubectl_get()));
        }
    }
    files
}

fn exec(cmds: &[&[&'static str]]) -> Source {
    Source::Exec(cmds.iter().map(|c| c.to_vec()).collect())
}

fn every_container_files() -> Vec<(&'static str, Source)> {
    vec![
        ("logs.txt", Source::Logs),
        ("inspect.json", Source::Inspect),
        ("resolv.conf", Source::File("/etc/resolv.conf".into())),
        ("ip-addr.txt", exec(&[&["ip", "addr"]])),
        (
            "ip-route.txt",
            exec(&[&["ip", "-4", "route"], &["ip", "-6", "route"]]),
        ),
        ("iptables.txt", exec(&[&["iptables-save"]])),
        ("ip6tables.txt", exec(&[&["ip6tables-save"]])),
    ]
}

/// NAT64's and DNS64's configuration and what their logs show.
fn translator_files(role: Option<Role>) -> Vec<(&'static str, Source)> {
    match role {
        Some(Role::Nat64) => vec![
            ("tayga.conf", Source::File("/etc/tayga.conf".into())),
            (
                "dynamic.map",
                Source::File(format!("{}/dynamic.map", tayga::DATA_DIR)),
            ),
            ("mappings.txt", Source::TaygaMappings),
        ],
        Some(Role::Dns64) => vec![
            ("named.conf", Source::File("/etc/bind/named.conf".into())),
            ("querylog-sample.txt", Source::QueryLog),
        ],
        _ => Vec::new(),
    }
}

/// A Kubernetes node's kubelet, containerd and pods.
fn kubernetes_node_files() -> [(&'static str, Source); 4] {
    [
        (
            "kubelet.log",
            exec(&[&["journalctl", "-u", "kubelet", "--no-pager", "-n", "3000"]]),
        ),
        (
            "containerd.log",
            exec(&[&["journalctl", "-u", "containerd", "--no-pager", "-n", "1000"]]),
        ),
        (
            "crictl-ps.txt",
            exec(&[&[
                "crictl",
                "--runtime-endpoint",
                "unix:///run/containerd/containerd.sock",
                "ps",
                "-a",
            ]]),
        ),
        (
            "kubelet-resolv.conf",
            Source::File(kubeadm::KUBELET_RESOLV_PATH.into()),
        ),
    ]
}

/// The cluster's nodes, pods and events, as the master's admin sees them.
fn kubectl_get() -> Source {
    exec(&[
        &[
            "kubectl",
            "--kubeconfig",
            "/etc/kubernetes/admin.conf",
            "get",
            "nodes,pods",
            "-A",
            "-o",
            "wide",
        ],
        &[
            "kubectl",
            "--kubeconfig",
            "/etc/kubernetes/admin.conf",
            "get",
            "events",
            "-A",
        ],
    ])
}

/// tayga's lines that map an IPv6 client into its pool
/// ("assigned new pool address 172.18.0.130 (fd00:20::3)").
fn tayga_mappings(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("assigned") && l.contains("pool address"))
        .collect()
}

/// The last `n` lines that named logged for a query (`querylog yes;`).
fn querylog_sample(log: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("query:")).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// `./dind-logs-<id>-<unix seconds>`.
fn default_dir(cluster_id: u8, unix_seconds: u64) -> PathBuf {
    PathBuf::from(format!("dind-logs-{cluster_id}-{unix_seconds}"))
}

/// DIR.tar.gz beside DIR.
fn archive_path(dir: &Path) -> Result<PathBuf> {
    let name = dir
        .file_name()
        .with_context(|| format!("{} does not name a directory to create", dir.display()))?;
    let mut archive = name.to_os_string();
    archive.push(".tar.gz");
    Ok(dir.with_file_name(archive))
}

fn lines_file(lines: &[&str]) -> String {
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

pub(crate) async fn export_logs(
    engine: &Engine,
    cluster_id: u8,
    dir: Option<PathBuf>,
    progress: &Progress,
) -> Result<Written> {
    let id = cluster_id.to_string();
    let filter = [(labels::CLUSTER, id.as_str())];
    let containers = cluster_containers(engine, &filter).await?;
    let record = find_record(engine, cluster_id).await?;
    let kubernetes = record.as_ref().is_some_and(|r| r.config.kubernetes);
    if record.is_none() && containers.is_empty() && engine.networks_with(&filter).await?.is_empty()
    {
        bail!("no dind cluster {cluster_id} here; `dind status` lists the clusters");
    }

    let dir = dir.unwrap_or_else(|| default_dir(cluster_id, unix_seconds_now()));
    let archive = archive_path(&dir)?;
    prepare_dir(&dir).await?;

    progress
        .step(
            &format!("Collecting {} container(s)", containers.len()),
            try_join_all(
                containers
                    .iter()
                    .map(|(name, role)| export_container(engine, &dir, name, *role, kubernetes)),
            ),
        )
        .await?;
    progress
        .step(
            "Collecting the host's rules and routes",
            export_host(engine, cluster_id, &dir.join("host")),
        )
        .await?;
    progress
        .step(
            "Collecting the cluster's record and status",
            export_cluster(engine, cluster_id, record.as_ref(), &dir.join("cluster")),
        )
        .await?;
    progress
        .step(&format!("Writing {}", archive.display()), {
            let (dir, archive) = (dir.clone(), archive.clone());
            async move {
                tokio::task::spawn_blocking(move || write_archive(&dir, &archive))
                    .await
                    .context("the archive writer stopped")?
            }
        })
        .await?;
    Ok(Written { dir, archive })
}

/// The cluster's containers (host helpers aside), named, with their roles.
async fn cluster_containers(
    engine: &Engine,
    filter: &[(&str, &str)],
) -> Result<Vec<(String, Option<Role>)>> {
    Ok(engine
        .containers_with(filter)
        .await?
        .into_iter()
        .filter_map(|c| {
            let name = container_name(&c)?;
            let role = Role::of(&c.labels?);
            (role != Some(Role::HostHelper)).then_some((name, role))
        })
        .collect())
}

fn unix_seconds_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The cluster's record and its status as JSON (or why the status could not be read).
async fn export_cluster(
    engine: &Engine,
    cluster_id: u8,
    record: Option<&Record>,
    cluster_dir: &Path,
) -> Result<()> {
    create_dir(cluster_dir).await?;
    write(
        &cluster_dir.join("record.json"),
        serde_json::to_string_pretty(&record)? + "\n",
    )
    .await?;
    let status = match status::status(engine, Some(cluster_id), true).await {
        Ok(clusters) => serde_json::to_string_pretty(&clusters)? + "\n",
        Err(err) => format!("dind could not collect the status: {err:#}\n"),
    };
    write(&cluster_dir.join("status.json"), status).await
}

/// Refuses a DIR with files in it: the archive would mix two exports.
async fn prepare_dir(dir: &Path) -> Result<()> {
    match tokio::fs::read_dir(dir).await {
        Ok(mut entries) => {
            if entries.next_entry().await?.is_some() {
                bail!(
                    "{} exists and is not empty; name a new directory",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_dir(dir).await,
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

async fn create_dir(dir: &Path) -> Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))
}

async fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    tokio::fs::write(path, contents)
        .await
        .with_context(|| format!("cannot write {}", path.display()))
}

async fn export_container(
    engine: &Engine,
    dir: &Path,
    name: &str,
    role: Option<Role>,
    kubernetes: bool,
) -> Result<()> {
    let out = dir.join(name);
    create_dir(&out).await?;
    let running = engine.is_running(name).await?;
    let mut log = String::new();
    for (file, source) in layout(role, kubernetes) {
        let path = out.join(file);
        let contents = match source {
            Source::Logs => {
                write_logs(engine, name, &path).await?;
                log = String::from_utf8_lossy(&tokio::fs::read(&path).await?).into_owned();
                continue;
            }
            Source::Inspect => match engine.inspect_container(name).await {
                Ok(Some(inspect)) => serde_json::to_string_pretty(&inspect)? + "\n",
                Ok(None) => format!("container {name} is gone\n"),
                Err(err) => format!("dind could not inspect {name}: {err:#}\n"),
            },
            Source::File(file) => match engine.read_file(name, &file).await {
                Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
                Ok(None) => format!("{file} does not exist in {name}\n"),
                Err(err) => format!("dind could not read {file}: {err:#}\n"),
            },
            Source::Exec(commands) if !running => format!(
                "{name} is not running, so `{}` could not run in it\n",
                commands
                    .iter()
                    .map(|c| c.join(" "))
                    .collect::<Vec<_>>()
                    .join("` and `")
            ),
            Source::Exec(commands) => {
                let mut text = String::new();
                for argv in &commands {
                    if commands.len() > 1 {
                        text.push_str(&format!("# {}\n", argv.join(" ")));
                    }
                    text.push_str(&exec_text(engine, name, argv).await);
                }
                text
            }
            Source::TaygaMappings => lines_file(&tayga_mappings(&log)),
            Source::QueryLog => lines_file(&querylog_sample(&log, QUERYLOG_LINES)),
        };
        write(&path, contents).await?;
    }
    Ok(())
}

/// The command's output, or why there is none (a tool missing in the image, say).
async fn exec_text(engine: &Engine, container: &str, argv: &[&str]) -> String {
    match engine.exec(container, argv).await {
        Ok(out) if out.success() => out.stdout,
        Ok(out) => format!(
            "dind could not collect this: `{}` exited with {}: {}{}\n",
            argv.join(" "),
            out.code,
            out.stderr.trim(),
            out.stdout.trim()
        ),
        Err(err) => format!("dind could not collect this: {err:#}\n"),
    }
}

/// All of a container's output, streamed to `path`.
async fn write_logs(engine: &Engine, container: &str, path: &Path) -> Result<()> {
    let mut file = tokio::fs::File::create(path)
        .await
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut stream = engine.logs(container);
    while let Some(chunk) = stream.next().await {
        let bytes = match chunk {
            Ok(chunk) => chunk,
            Err(err) => format!("\ndind could not read further logs: {err}\n").into(),
        };
        file.write_all(&bytes)
            .await
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    file.flush().await?;
    Ok(())
}

/// The host's side, through a helper container when dind's node image is there (any
/// cluster that got as far as its nodes has it).
async fn export_host(engine: &Engine, cluster_id: u8, dir: &Path) -> Result<()> {
    create_dir(dir).await?;
    let names = [
        "dind-rules.txt",
        "ip6tables.txt",
        "iptables.txt",
        "routes.txt",
    ];
    let image = ImageKind::NodeBase.spec().tag;
    let contents: Vec<String> = if !images::exists(engine, &image).await? {
        let why = format!(
            "dind's helper image {image} is not on the Docker host: the host was not inspected\n"
        );
        vec![why; names.len()]
    } else {
        let contents = HostNet::with(engine, &image, cluster_id, async |host| {
            Ok(host_files(host, cluster_id).await)
        })
        .await;
        contents.unwrap_or_else(|err| {
            vec![format!("dind could not inspect the Docker host: {err:#}\n"); names.len()]
        })
    };
    for (name, text) in names.iter().zip(contents) {
        write(&dir.join(name), text).await?;
    }
    Ok(())
}

async fn host_files(host: &HostNet, cluster_id: u8) -> Vec<String> {
    let or_reason = |result: Result<String>| {
        result.unwrap_or_else(|err| format!("dind could not collect this: {err:#}\n"))
    };
    let tag = plan::rule_tag(cluster_id);
    let tool = host
        .backend()
        .await
        .map(|b| b.ip6tables())
        .unwrap_or("ip6tables");
    let rules = host.list_tagged_rules(&tag).await.map(|rules| {
        let mut text = format!("# ip6tables rules tagged {tag} ({tool})\n");
        for rule in rules {
            text.push_str(&rule.display());
            text.push('\n');
        }
        text
    });
    let mut routes = String::new();
    for family in ["-4", "-6"] {
        let argv: Vec<String> = ["ip", family, "route", "show"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        routes.push_str(&format!("# {}\n", argv.join(" ")));
        routes.push_str(&match host.run(&argv).await {
            Ok(out) => format!("{}{}", out.stdout, out.stderr),
            Err(err) => format!("dind could not collect this: {err:#}\n"),
        });
    }
    vec![
        or_reason(rules),
        or_reason(host.ip6tables_save().await),
        or_reason(host.iptables_save().await),
        routes,
    ]
}

/// DIR.tar.gz, its entries under DIR's own name.
fn write_archive(dir: &Path, archive: &Path) -> Result<()> {
    let name = dir
        .file_name()
        .context("the export directory has no name")?;
    let file = std::fs::File::create(archive)
        .with_context(|| format!("cannot create {}", archive.display()))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(name, dir)
        .with_context(|| format!("cannot pack {}", dir.display()))?;
    tar.into_inner()
        .and_then(|gz| gz.finish())
        .with_context(|| format!("cannot finish {}", archive.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(role: Option<Role>) -> Vec<&'static str> {
        layout(role, false)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    #[test]
    fn kubernetes_nodes_add_kubelet_containerd_and_cluster_state() {
        let kube = |role| -> Vec<&'static str> {
            layout(role, true)
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        let node_extra = [
            "kubelet.log",
            "containerd.log",
            "crictl-ps.txt",
            "kubelet-resolv.conf",
        ];
        assert_eq!(
            kube(Some(Role::Worker)),
            [&names(Some(Role::Worker))[..], &node_extra].concat()
        );
        assert_eq!(
            kube(Some(Role::Master)),
            [
                &names(Some(Role::Master))[..],
                &node_extra,
                &["kubectl-get.txt"]
            ]
            .concat()
        );
        assert_eq!(kube(Some(Role::Nat64)), names(Some(Role::Nat64)));
    }

    #[test]
    fn every_container_gets_the_common_files_and_support_containers_their_own() {
        let common = [
            "logs.txt",
            "inspect.json",
            "resolv.conf",
            "ip-addr.txt",
            "ip-route.txt",
            "iptables.txt",
            "ip6tables.txt",
        ];
        assert_eq!(names(Some(Role::Worker)), common);
        assert_eq!(names(Some(Role::Master)), common);
        assert_eq!(
            names(Some(Role::Nat64)),
            [&common[..], &["tayga.conf", "dynamic.map", "mappings.txt"]].concat()
        );
        assert_eq!(
            names(Some(Role::Dns64)),
            [&common[..], &["named.conf", "querylog-sample.txt"]].concat()
        );
    }

    #[test]
    fn the_log_derived_files_come_after_the_logs() {
        for role in [Some(Role::Nat64), Some(Role::Dns64)] {
            let files = layout(role, false);
            let logs = files.iter().position(|(_, s)| *s == Source::Logs).unwrap();
            let derived = files
                .iter()
                .position(|(_, s)| matches!(s, Source::TaygaMappings | Source::QueryLog))
                .unwrap();
            assert!(logs < derived, "{role:?}");
        }
    }

    #[test]
    fn the_tayga_files_are_where_tayga_keeps_them() {
        let files = layout(Some(Role::Nat64), false);
        assert!(files.contains(&(
            "dynamic.map",
            Source::File("/var/spool/tayga/dynamic.map".into())
        )));
        assert!(files.contains(&("tayga.conf", Source::File("/etc/tayga.conf".into()))));
    }

    #[test]
    fn tayga_mapping_lines_are_picked_from_its_log() {
        let log = "dind-nat64: nat64 is up\n\
                   starting TAYGA 0.9.2\n\
                   assigned new pool address 172.18.0.130 (fd00:20::3)\n\
                   NAT64 enabled\n\
                   assigned new pool address 172.18.0.131 (fd00:20::100)\n";
        assert_eq!(
            tayga_mappings(log),
            [
                "assigned new pool address 172.18.0.130 (fd00:20::3)",
                "assigned new pool address 172.18.0.131 (fd00:20::100)"
            ]
        );
        assert!(tayga_mappings("").is_empty());
    }

    #[test]
    fn the_querylog_sample_is_the_last_query_lines() {
        let mut log = String::from("starting BIND 9.18\n");
        for i in 0..250 {
            log.push_str(&format!(
                "client @0x1 fd00:20::3#4{i} (n{i}.test): query: n{i}.test IN AAAA +E(0)K (fd00:20::100)\n"
            ));
            log.push_str("resolver priming query complete\n");
        }
        let sample = querylog_sample(&log, 200);
        assert_eq!(sample.len(), 200);
        assert!(sample[0].contains("n50.test"));
        assert!(sample[199].contains("n249.test"));
        assert_eq!(querylog_sample("no queries\n", 200), Vec::<&str>::new());
    }

    #[test]
    fn the_archive_sits_beside_the_directory() {
        assert_eq!(
            archive_path(Path::new("out/dind-logs-3-100")).unwrap(),
            PathBuf::from("out/dind-logs-3-100.tar.gz")
        );
        assert_eq!(
            archive_path(Path::new("/tmp/x/")).unwrap(),
            PathBuf::from("/tmp/x.tar.gz")
        );
        assert!(archive_path(Path::new("/")).is_err());
        assert!(archive_path(Path::new("..")).is_err());
        assert_eq!(
            default_dir(7, 1700000000),
            PathBuf::from("dind-logs-7-1700000000")
        );
    }

    #[test]
    fn lines_files_end_in_a_newline_unless_empty() {
        assert_eq!(lines_file(&["a", "b"]), "a\nb\n");
        assert_eq!(lines_file(&[]), "");
    }

    #[tokio::test]
    async fn a_directory_with_files_is_refused_and_an_empty_one_used() {
        let tmp = tempfile::tempdir().unwrap();
        prepare_dir(tmp.path()).await.unwrap();
        let fresh = tmp.path().join("new");
        prepare_dir(&fresh).await.unwrap();
        assert!(fresh.is_dir());
        std::fs::write(fresh.join("f"), "x").unwrap();
        let err = prepare_dir(&fresh).await.unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
    }

    #[test]
    fn the_archive_holds_the_directory_under_its_name() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dind-logs-1-2");
        std::fs::create_dir_all(dir.join("bind9")).unwrap();
        std::fs::write(dir.join("bind9/logs.txt"), "hello").unwrap();
        let archive = archive_path(&dir).unwrap();
        write_archive(&dir, &archive).unwrap();
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(&archive).unwrap());
        let mut entries: Vec<String> = tar::Archive::new(gz)
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        entries.sort();
        assert_eq!(
            entries,
            [
                "dind-logs-1-2/",
                "dind-logs-1-2/bind9",
                "dind-logs-1-2/bind9/logs.txt"
            ]
        );
    }
}
