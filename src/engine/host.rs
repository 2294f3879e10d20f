//! Changes on the Docker host (routes, ip6tables rules, the IPv6 forwarding switch) made
//! through a short-lived helper container with host networking, so they land on the host
//! that runs the daemon, not on the machine that runs `dind`.

mod batch;
mod helper;
mod save;

pub(crate) use helper::{create_listed, process_alive, remove_listed, this_host};
pub use helper::{remove_listed_helpers, remove_stray_helpers, removing_helpers};
pub(crate) use save::Backend;
pub(crate) use save::{
    daemon_masquerades, daemon_rules, docker_chains, forward_policy, tagged_rules,
};

use crate::engine::docker::{first_lines, Engine, ExecOutput};
use crate::labels::ForwardPolicy;
use crate::plan::Route;
use crate::render::containers::{self, host_helper};
use crate::render::host_rules::{Chain, Ip6Rule, Table};
use anyhow::{bail, Context, Result};
use futures_util::FutureExt;
use helper::Helper;
use save::choose_backend;
use std::panic::AssertUnwindSafe;

pub(crate) use crate::render::containers::Privilege;

/// A running helper with host networking, for commands on the Docker host.
struct HostHelper {
    container: Helper,
}

impl HostHelper {
    async fn start(
        engine: &Engine,
        image: &str,
        cluster_id: u8,
        privilege: Privilege,
    ) -> Result<HostHelper> {
        let container = Helper::create(engine, |name| {
            host_helper(name, image, cluster_id, privilege)
        })
        .await
        .with_context(|| format!("cannot create the host helper container from {image}"))?;
        if let Err(err) = engine.start(&container.name).await {
            container.remove().await;
            return Err(err).context("cannot start the host helper container");
        }
        Ok(HostHelper { container })
    }

    async fn run(&self, argv: &[&str]) -> Result<ExecOutput> {
        self.container
            .engine()
            .exec(&self.container.name, argv)
            .await
    }

    async fn run_ok(&self, argv: &[&str]) -> Result<String> {
        succeeded(argv, self.run(argv).await?)
    }

    /// Runs `commands`, which only read, side by side in one exec; their outputs, in order.
    async fn run_all(&self, commands: &[Vec<String>]) -> Result<Vec<ExecOutput>> {
        let script = batch::script(commands)?;
        let (code, stdout, stderr) = self
            .container
            .engine()
            .exec_bytes(&self.container.name, &["sh", "-c", &script], &|_| {})
            .await?;
        batch::parse(&stdout, commands.len()).with_context(|| {
            format!(
                "commands on the Docker host failed (exit code {code}): {}",
                first_lines(&String::from_utf8_lossy(&stderr), 8)
            )
        })
    }

    async fn remove(self) {
        self.container.remove().await;
    }
}

/// The Docker host's network, seen through a NET_ADMIN helper.
pub struct HostNet {
    helper: HostHelper,
    backend: tokio::sync::OnceCell<Backend>,
}

/// `out` of `argv` on the Docker host, when it succeeded; else an error with its output.
pub(crate) fn succeeded(argv: &[&str], out: ExecOutput) -> Result<String> {
    if !out.success() {
        bail!(
            "`{}` on the Docker host failed: {}",
            argv.join(" "),
            first_lines(&format!("{}{}", out.stderr, out.stdout), 8)
        );
    }
    Ok(out.stdout)
}

/// The tools whose rules tell the host's iptables backend: each backend's IPv4 and IPv6
/// `*-save`.
const BACKEND_SAVES: [[&str; 2]; 2] = [
    ["iptables-legacy-save", "ip6tables-legacy-save"],
    ["iptables-nft-save", "ip6tables-nft-save"],
];

impl HostNet {
    /// A NET_ADMIN helper for several steps: it stays until [`remove`](Self::remove)d, or
    /// is removed in a task of its own when dropped (see [`helper`]).
    pub(crate) async fn start(engine: &Engine, image: &str, cluster_id: u8) -> Result<HostNet> {
        let helper = HostHelper::start(engine, image, cluster_id, Privilege::NetAdmin).await?;
        Ok(HostNet {
            helper,
            backend: tokio::sync::OnceCell::new(),
        })
    }

    pub(crate) async fn remove(self) {
        self.helper.remove().await;
    }

    /// Runs `work` with the Docker host's network, through one helper container that is
    /// removed afterwards however `work` ends: returning, failing, panicking or dropped.
    pub async fn with<T>(
        engine: &Engine,
        image: &str,
        cluster_id: u8,
        work: impl AsyncFnOnce(&HostNet) -> Result<T>,
    ) -> Result<T> {
        Self::with_privilege(engine, image, cluster_id, Privilege::NetAdmin, work).await
    }

    async fn with_privilege<T>(
        engine: &Engine,
        image: &str,
        cluster_id: u8,
        privilege: Privilege,
        work: impl AsyncFnOnce(&HostNet) -> Result<T>,
    ) -> Result<T> {
        let helper = HostHelper::start(engine, image, cluster_id, privilege).await?;
        let host = HostNet {
            helper,
            backend: tokio::sync::OnceCell::new(),
        };
        let outcome = AssertUnwindSafe(work(&host)).catch_unwind().await;
        host.helper.remove().await;
        match outcome {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// The host's iptables backend, found on first use (four `*-save` runs in one exec).
    pub(crate) async fn backend(&self) -> Result<Backend> {
        if let Some(backend) = self.backend.get() {
            return Ok(*backend);
        }
        Ok(self.run_all_finding_backend(&[]).await?.1)
    }

    /// Runs `commands`, which only read, in one exec, and with them the four `*-save` runs
    /// that tell the host's iptables backend (kept for later calls): their outputs, the
    /// backend, and its `ip6tables-save` (None when that failed).
    pub(crate) async fn run_all_finding_backend(
        &self,
        commands: &[Vec<String>],
    ) -> Result<(Vec<ExecOutput>, Backend, Option<String>)> {
        let tools: Vec<&str> = BACKEND_SAVES.iter().flatten().copied().collect();
        let mut all = commands.to_vec();
        all.extend(tools.iter().map(|tool| vec![tool.to_string()]));
        let mut outputs = self.helper.run_all(&all).await?;
        let saves = outputs.split_off(commands.len());
        // A backend the host kernel lacks fails here; it simply counts no rules.
        let text = |k: usize| format!("{}{}", saves[2 * k].stdout, saves[2 * k + 1].stdout);
        let backend = choose_backend(&text(0), &text(1));
        let _ = self.backend.set(backend);
        let ip6 = tools
            .iter()
            .position(|tool| *tool == backend.ip6tables_save())
            .map(|k| &saves[k])
            .filter(|save| save.success());
        let ip6tables_save = ip6.map(|save| save.stdout.clone());
        Ok((outputs, backend, ip6tables_save))
    }

    pub(crate) async fn interface_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .helper
            .run(&["ip", "link", "show", "dev", name])
            .await?
            .success())
    }

    pub(crate) async fn ipv6_forwarding(&self) -> Result<bool> {
        let out = self
            .helper
            .run_ok(&["cat", "/proc/sys/net/ipv6/conf/all/forwarding"])
            .await?;
        Ok(out.trim() == "1")
    }

    pub(crate) async fn accept_ra(&self, interface: &str) -> Result<Option<u8>> {
        let path = format!("/proc/sys/net/ipv6/conf/{interface}/accept_ra");
        let out = self.helper.run(&["cat", &path]).await?;
        Ok(out
            .success()
            .then(|| out.stdout.trim().parse().ok())
            .flatten())
    }

    pub(crate) async fn ensure_route(&self, route: &Route) -> Result<()> {
        let line = route.to_string();
        let mut argv = vec!["ip", "route", "replace"];
        argv.extend(line.split_whitespace());
        self.helper.run_ok(&argv).await.map(|_| ())
    }

    /// True when the route was there.
    pub(crate) async fn remove_route(&self, route: &Route) -> Result<bool> {
        let line = route.to_string();
        let mut argv = vec!["ip", "route", "del"];
        argv.extend(line.split_whitespace());
        let out = self.helper.run(&argv).await?;
        if out.success() {
            return Ok(true);
        }
        if out.stderr.contains("No such process") || out.stderr.contains("Cannot find device") {
            return Ok(false);
        }
        bail!(
            "`{}` on the Docker host failed: {}",
            argv.join(" "),
            out.stderr.trim()
        )
    }

    /// Runs any command on the Docker host's network, e.g. a DNS lookup with its resolver.
    pub async fn run(&self, argv: &[String]) -> Result<ExecOutput> {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.helper.run(&argv).await
    }

    /// True when the host has `route` (same destination and gateway or device).
    pub(crate) async fn has_route(&self, route: &Route) -> Result<bool> {
        let family = if route.dst.addr().is_ipv4() {
            "-4"
        } else {
            "-6"
        };
        let out = self
            .helper
            .run_ok(&[
                "ip",
                family,
                "route",
                "show",
                "exact",
                &route.dst.to_string(),
            ])
            .await?;
        Ok(out.lines().any(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let via = route.via.map(|v| v.to_string());
            let via_ok = via
                .as_deref()
                .is_none_or(|v| words.windows(2).any(|w| w[0] == "via" && w[1] == v));
            let dev_ok = route
                .dev
                .as_deref()
                .is_none_or(|d| words.windows(2).any(|w| w[0] == "dev" && w[1] == d));
            via_ok && dev_ok
        }))
    }

    pub(crate) async fn ip6tables_save(&self) -> Result<String> {
        if self.backend.get().is_none() {
            // Finding the backend runs its save too.
            if let (_, _, Some(save)) = self.run_all_finding_backend(&[]).await? {
                return Ok(save);
            }
        }
        self.helper
            .run_ok(&[self.backend().await?.ip6tables_save()])
            .await
    }

    /// Runs the host's ip6tables with `args`.
    async fn ip6tables(&self, args: &[String]) -> Result<ExecOutput> {
        let mut argv = vec![self.backend().await?.ip6tables().to_string()];
        argv.extend_from_slice(args);
        self.run(&argv).await
    }

    async fn ip6tables_ok(&self, args: &[String], what: impl FnOnce() -> String) -> Result<()> {
        let out = self.ip6tables(args).await?;
        if !out.success() {
            bail!(
                "{}: {}",
                what(),
                first_lines(&format!("{}{}", out.stderr, out.stdout), 8)
            );
        }
        Ok(())
    }

    /// Adds `rule` unless an identical one is present; true when it was added.
    pub(crate) async fn ensure_rule(&self, rule: &Ip6Rule) -> Result<bool> {
        if self.ip6tables(&rule.check_args()).await?.success() {
            return Ok(false);
        }
        self.ip6tables_ok(&rule.add_args(), || {
            format!("cannot add host rule {}", rule.display())
        })
        .await?;
        Ok(true)
    }

    /// Deletes `rule`; true when it was there.
    pub(crate) async fn remove_rule(&self, rule: &Ip6Rule) -> Result<bool> {
        if !self.ip6tables(&rule.check_args()).await?.success() {
            return Ok(false);
        }
        self.ip6tables_ok(&rule.delete_args(), || {
            format!("cannot delete host rule {}", rule.display())
        })
        .await?;
        Ok(true)
    }

    /// Deletes every ip6tables rule carrying `tag`; returns them.
    pub(crate) async fn remove_tagged_rules(&self, tag: &str) -> Result<Vec<Ip6Rule>> {
        let rules = tagged_rules(&self.ip6tables_save().await?, tag);
        for rule in &rules {
            self.ip6tables_ok(&rule.delete_args(), || {
                format!("cannot delete host rule {}", rule.display())
            })
            .await?;
        }
        Ok(rules)
    }

    pub(crate) async fn list_tagged_rules(&self, tag: &str) -> Result<Vec<Ip6Rule>> {
        Ok(tagged_rules(&self.ip6tables_save().await?, tag))
    }

    /// The ip6tables filter FORWARD policy; None when the host has no filter table.
    pub(crate) async fn ip6_forward_policy(&self) -> Result<Option<ForwardPolicy>> {
        Ok(forward_policy(&self.ip6tables_save().await?))
    }

    /// Sets the ip6tables filter FORWARD policy.
    pub(crate) async fn set_ip6_forward_policy(&self, policy: ForwardPolicy) -> Result<()> {
        let (table, chain) = (Table::Filter, Chain::Forward);
        let args: Vec<String> = [
            "-w",
            "-t",
            table.as_str(),
            "-P",
            chain.as_str(),
            policy.as_str(),
        ]
        .map(String::from)
        .to_vec();
        self.ip6tables_ok(&args, || {
            format!("cannot set the host's ip6tables FORWARD policy to {policy}")
        })
        .await
    }
}

/// Writes net.ipv6.conf.all.forwarding on the Docker host.
pub(crate) async fn set_ipv6_forwarding(
    engine: &Engine,
    image: &str,
    cluster_id: u8,
    on: bool,
) -> Result<()> {
    let value = if on { "1" } else { "0" };
    let script = format!(
        "mount -o remount,rw /proc/sys && echo {value} > /proc/sys/net/ipv6/conf/all/forwarding"
    );
    HostNet::with_privilege(engine, image, cluster_id, Privilege::Sysctl, async |host| {
        host.helper
            .run_ok(&["sh", "-c", &script])
            .await
            .map(|_| ())
            .context("cannot set net.ipv6.conf.all.forwarding on the Docker host")
    })
    .await
}

impl HostNet {
    /// The host's IPv4 rules, from the detected backend.
    pub(crate) async fn iptables_save(&self) -> Result<String> {
        let tool = match self.backend().await? {
            Backend::Nft => "iptables-nft-save",
            Backend::Legacy => "iptables-legacy-save",
        };
        self.helper.run_ok(&[tool]).await
    }
}

/// Whether the Docker host has the character device /dev/net/tun, which NAT64 needs. One
/// short-lived container sees the host's /dev read-only, with no network and no capability.
pub(crate) async fn has_tun(engine: &Engine, image: &str, cluster_id: u8) -> Result<bool> {
    let probe = Helper::create(engine, |name| {
        containers::tun_probe(name, image, cluster_id)
    })
    .await
    .with_context(|| format!("cannot create the tun probe container from {image}"))?;
    let result = engine
        .start_and_wait(&probe.name, "the tun probe container")
        .await;
    probe.remove().await;
    match result? {
        (0, _) => Ok(true),
        // `test` said no.
        (1, _) => Ok(false),
        (code, output) => bail!(
            "the tun probe container failed with exit code {code}: {}",
            first_lines(&output, 5)
        ),
    }
}
