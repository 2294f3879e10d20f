//! The probe pods: network namespaces made through a node's CNI config, and the
//! pod-to-pod check between two of them.

use super::report::{Check, CheckId};
use crate::engine::docker::{Engine, ExecOutput};
use anyhow::{Context, Result};
use std::net::IpAddr;

/// A network namespace made through a node's CNI config, deleted again by `remove`.
pub(super) struct ProbePod<'a> {
    engine: &'a Engine,
    pub(super) node: String,
    name: String,
    pub(super) address: IpAddr,
}

impl<'a> ProbePod<'a> {
    pub(super) async fn create(engine: &'a Engine, node: &str, name: &str) -> Result<ProbePod<'a>> {
        // A pod left by an interrupted check is replaced.
        let _ = engine.exec(node, &["dind-pod", "del", name]).await;
        let out = engine.exec_ok(node, &["dind-pod", "add", name]).await?;
        let address = out
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .with_context(|| format!("dind-pod printed no address for {name} on {node}"))?;
        Ok(ProbePod {
            engine,
            node: node.into(),
            name: name.into(),
            address,
        })
    }

    pub(super) async fn run(&self, argv: &[&str]) -> Result<ExecOutput> {
        let mut full = vec!["dind-pod", "exec", self.name.as_str()];
        full.extend_from_slice(argv);
        self.engine.exec(&self.node, &full).await
    }

    pub(super) async fn remove(self) {
        let _ = self
            .engine
            .exec(&self.node, &["dind-pod", "del", &self.name])
            .await;
    }
}

pub(super) fn tcp_connect_argv(address: IpAddr, port: u16) -> Vec<String> {
    let target = match address {
        IpAddr::V6(a) => format!("TCP6:[{a}]:{port}"),
        IpAddr::V4(a) => format!("TCP4:{a}:{port}"),
    };
    vec![
        "socat".into(),
        "-T3".into(),
        "/dev/null".into(),
        format!("{target},connect-timeout=3"),
    ]
}

/// How long the pod-to-pod probe server may take to listen.
const LISTEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub(super) async fn pod_to_pod(a: &ProbePod<'_>, b: &ProbePod<'_>) -> Result<Check> {
    const PORT: u16 = 7999;
    let target = format!("{} → {}", a.node, b.node);
    let listen = format!(
        "nohup dind-pod exec {} socat -T5 TCP-LISTEN:{PORT},reuseaddr{} SYSTEM:'echo pong' >/dev/null 2>&1 &",
        b.name,
        if b.address.is_ipv6() { ",ipv6only=0,pf=ip6" } else { "" }
    );
    b.engine.exec_ok(&b.node, &["sh", "-c", &listen]).await?;
    let listening = format!(
        "dind-pod exec {} ss -Hltn 'sport = :{PORT}' | grep -q {PORT}",
        b.name
    );
    let waited = b
        .engine
        .wait_ready(&b.node, &["sh", "-c", &listening], LISTEN_TIMEOUT)
        .await;
    if let Err(err) = waited {
        return Ok(Check::fail(
            CheckId::PodToPod,
            &target,
            format!("the probe server never listened: {err:#}"),
            "see `dind export logs`".into(),
        ));
    }
    let mut argv = tcp_connect_argv(b.address, PORT);
    argv[2] = "-".into();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = a.run(&argv).await?;
    Ok(if out.stdout.trim() == "pong" {
        Check::ok(
            CheckId::PodToPod,
            &target,
            format!("{} reached {}", a.address, b.address),
        )
    } else {
        Check::fail(
            CheckId::PodToPod,
            &target,
            format!("{} could not reach {}: {}", a.address, b.address, out.stderr.trim()),
            format!("each node needs a route to the other's pod CIDR via its address (`ip route` in {})", a.node),
        )
    })
}
