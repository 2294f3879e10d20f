//! Changes on the Docker host (routes, ip6tables rules, the IPv6 forwarding switch) made
//! through a short-lived helper container with host networking, so they land on the host
//! that runs the daemon, not on the machine that runs `dind`.

use crate::docker::{first_lines, Engine, ExecOutput};
use crate::labels::{self, role};
use crate::plan::Route;
use crate::render::host_rules::{choose_backend, tagged_rules, Backend, Ip6Rule};
use anyhow::{bail, Context, Result};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

/// What a helper may do: NET_ADMIN for routes and rules; SYS_ADMIN (and no AppArmor
/// profile) only for the one sysctl write, which needs /proc/sys remounted read-write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    NetAdmin,
    Sysctl,
}

pub struct HostHelper {
    engine: Engine,
    name: String,
}

static HELPER_SEQ: AtomicU32 = AtomicU32::new(0);

impl HostHelper {
    pub async fn start(
        engine: &Engine,
        image: &str,
        cluster_id: u8,
        privilege: Privilege,
    ) -> Result<HostHelper> {
        let name = format!(
            "dind-host-helper-{cluster_id}-{}-{}",
            std::process::id(),
            HELPER_SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let (caps, security_opt) = match privilege {
            Privilege::NetAdmin => (vec!["NET_ADMIN".to_string(), "NET_RAW".to_string()], None),
            Privilege::Sysctl => (
                vec!["NET_ADMIN".to_string(), "SYS_ADMIN".to_string()],
                Some(vec!["apparmor=unconfined".to_string()]),
            ),
        };
        let labels = HashMap::from([
            (labels::CLUSTER.to_string(), cluster_id.to_string()),
            (labels::ROLE.to_string(), role::HOST_HELPER.to_string()),
        ]);
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["sleep".into()]),
            cmd: Some(vec!["infinity".into()]),
            labels: Some(labels),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                cap_add: Some(caps),
                cap_drop: Some(vec!["ALL".into()]),
                security_opt,
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        engine
            .api()
            .create_container(Some(options), body)
            .await
            .with_context(|| format!("cannot create the host helper container from {image}"))?;
        let helper = HostHelper {
            engine: engine.clone(),
            name,
        };
        if let Err(err) = engine.api().start_container(&helper.name, None).await {
            helper.remove().await;
            return Err(err).context("cannot start the host helper container");
        }
        Ok(helper)
    }

    pub async fn run(&self, argv: &[&str]) -> Result<ExecOutput> {
        self.engine.exec(&self.name, argv).await
    }

    pub async fn run_ok(&self, argv: &[&str]) -> Result<String> {
        let out = self.run(argv).await?;
        if !out.success() {
            bail!(
                "`{}` on the Docker host failed: {}",
                argv.join(" "),
                first_lines(&format!("{}{}", out.stderr, out.stdout), 8)
            );
        }
        Ok(out.stdout)
    }

    pub async fn remove(self) {
        let _ = self.engine.remove_container(&self.name).await;
    }
}

/// The Docker host's network, seen through a NET_ADMIN helper.
pub struct HostNet {
    helper: HostHelper,
    pub backend: Backend,
}

impl HostNet {
    pub async fn open(engine: &Engine, image: &str, cluster_id: u8) -> Result<HostNet> {
        let helper = HostHelper::start(engine, image, cluster_id, Privilege::NetAdmin).await?;
        match Self::detect_backend(&helper).await {
            Ok(backend) => Ok(HostNet { helper, backend }),
            Err(err) => {
                helper.remove().await;
                Err(err)
            }
        }
    }

    async fn detect_backend(helper: &HostHelper) -> Result<Backend> {
        let mut saves = Vec::new();
        for tools in [
            ["iptables-legacy-save", "ip6tables-legacy-save"],
            ["iptables-nft-save", "ip6tables-nft-save"],
        ] {
            let mut text = String::new();
            for tool in tools {
                // A backend the host kernel lacks fails here; it simply counts no rules.
                text.push_str(&helper.run(&[tool]).await?.stdout);
            }
            saves.push(text);
        }
        Ok(choose_backend(&saves[0], &saves[1]))
    }

    pub async fn close(self) {
        self.helper.remove().await;
    }

    /// The interface of the host's IPv6 default route, else of its IPv4 one.
    pub async fn default_interface(&self) -> Result<Option<String>> {
        for family in ["-6", "-4"] {
            let out = self
                .helper
                .run_ok(&["ip", family, "route", "show", "default"])
                .await?;
            if let Some(dev) = parse_default_dev(&out) {
                return Ok(Some(dev));
            }
        }
        Ok(None)
    }

    pub async fn interface_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .helper
            .run(&["ip", "link", "show", "dev", name])
            .await?
            .success())
    }

    pub async fn ipv6_forwarding(&self) -> Result<bool> {
        let out = self
            .helper
            .run_ok(&["cat", "/proc/sys/net/ipv6/conf/all/forwarding"])
            .await?;
        Ok(out.trim() == "1")
    }

    pub async fn accept_ra(&self, interface: &str) -> Result<Option<u8>> {
        let path = format!("/proc/sys/net/ipv6/conf/{interface}/accept_ra");
        let out = self.helper.run(&["cat", &path]).await?;
        Ok(out
            .success()
            .then(|| out.stdout.trim().parse().ok())
            .flatten())
    }

    pub async fn ensure_route(&self, route: &Route) -> Result<()> {
        let line = route.to_string();
        let mut argv = vec!["ip", "route", "replace"];
        argv.extend(line.split_whitespace());
        self.helper.run_ok(&argv).await.map(|_| ())
    }

    /// True when the route was there.
    pub async fn remove_route(&self, route: &Route) -> Result<bool> {
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

    pub async fn ip6tables_save(&self) -> Result<String> {
        self.helper.run_ok(&[self.backend.ip6tables_save()]).await
    }

    /// Adds `rule` unless an identical one is present; true when it was added.
    pub async fn ensure_rule(&self, rule: &Ip6Rule) -> Result<bool> {
        let tool = self.backend.ip6tables();
        let check: Vec<String> = rule.check_args();
        let mut argv = vec![tool];
        argv.extend(check.iter().map(String::as_str));
        if self.helper.run(&argv).await?.success() {
            return Ok(false);
        }
        let add = rule.add_args();
        let mut argv = vec![tool];
        argv.extend(add.iter().map(String::as_str));
        self.helper
            .run_ok(&argv)
            .await
            .with_context(|| format!("cannot add host rule {}", rule.display()))?;
        Ok(true)
    }

    /// Deletes every ip6tables rule carrying `tag`; returns them.
    pub async fn remove_tagged_rules(&self, tag: &str) -> Result<Vec<Ip6Rule>> {
        let rules = tagged_rules(&self.ip6tables_save().await?, tag);
        let tool = self.backend.ip6tables();
        for rule in &rules {
            let args = rule.delete_args();
            let mut argv = vec![tool];
            argv.extend(args.iter().map(String::as_str));
            self.helper
                .run_ok(&argv)
                .await
                .with_context(|| format!("cannot delete host rule {}", rule.display()))?;
        }
        Ok(rules)
    }

    pub async fn list_tagged_rules(&self, tag: &str) -> Result<Vec<Ip6Rule>> {
        Ok(tagged_rules(&self.ip6tables_save().await?, tag))
    }
}

/// Writes net.ipv6.conf.all.forwarding on the Docker host.
pub async fn set_ipv6_forwarding(
    engine: &Engine,
    image: &str,
    cluster_id: u8,
    on: bool,
) -> Result<()> {
    let helper = HostHelper::start(engine, image, cluster_id, Privilege::Sysctl).await?;
    let value = if on { "1" } else { "0" };
    let script = format!(
        "mount -o remount,rw /proc/sys && echo {value} > /proc/sys/net/ipv6/conf/all/forwarding"
    );
    let result = helper.run_ok(&["sh", "-c", &script]).await;
    helper.remove().await;
    result
        .map(|_| ())
        .context("cannot set net.ipv6.conf.all.forwarding on the Docker host")
}

/// `dev NAME` of the first line of `ip route show default`.
pub fn parse_default_dev(routes: &str) -> Option<String> {
    routes.lines().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .windows(2)
            .find(|w| w[0] == "dev")
            .map(|w| w[1].to_string())
    })
}
