//! dind's container and network specs as Docker's create requests: the one place a render
//! spec becomes a bollard body.

use crate::render::containers::{ContainerSpec, Mount, Network, NetworkSpec, Restart};
use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointIpamConfig, EndpointSettings, HostConfig,
    HostConfigCgroupnsModeEnum, Ipam, IpamConfig, Mount as DockerMount, MountType,
    NetworkCreateRequest, NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use std::collections::{BTreeMap, HashMap};

/// Docker leaves a setting that is absent to its default; an empty list is left out.
fn some_vec<T: Clone>(items: &[T]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.to_vec())
}

fn some_map(map: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!map.is_empty()).then(|| map.clone().into_iter().collect())
}

fn mount(mount: &Mount) -> DockerMount {
    match mount {
        Mount::Volume { target } => DockerMount {
            target: Some(target.clone()),
            typ: Some(MountType::VOLUME),
            ..Default::default()
        },
        Mount::Bind {
            source,
            target,
            read_only,
        } => DockerMount {
            target: Some(target.clone()),
            source: Some(source.clone()),
            typ: Some(MountType::BIND),
            read_only: Some(*read_only),
            ..Default::default()
        },
    }
}

fn restart_policy(restart: Restart) -> RestartPolicy {
    match restart {
        Restart::UnlessStopped => RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        },
        Restart::OnFailure { max_retries } => RestartPolicy {
            name: Some(RestartPolicyNameEnum::ON_FAILURE),
            maximum_retry_count: Some(max_retries),
        },
    }
}

fn network_mode(network: &Network) -> Option<String> {
    match network {
        Network::Default | Network::Attached { .. } => None,
        Network::None => Some("none".into()),
        Network::Host => Some("host".into()),
    }
}

fn endpoint(network: &Network) -> Option<NetworkingConfig> {
    let Network::Attached { network, addresses } = network else {
        return None;
    };
    let first = |v6: bool| {
        addresses
            .iter()
            .find(|a| a.is_ipv6() == v6)
            .map(ToString::to_string)
    };
    Some(NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            network.clone(),
            EndpointSettings {
                ipam_config: Some(EndpointIpamConfig {
                    ipv4_address: first(false),
                    ipv6_address: first(true),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )])),
    })
}

pub(super) fn container_body(spec: &ContainerSpec) -> ContainerCreateBody {
    // One container port may be published on several host addresses or ports.
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &spec.published {
        let binding = PortBinding {
            host_ip: Some(p.host_ip.to_string()),
            // Empty: Docker picks one.
            host_port: Some(p.host_port.map(|p| p.to_string()).unwrap_or_default()),
        };
        bindings
            .entry(p.container_key())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(binding);
    }
    let mut exposed: Vec<String> = bindings.keys().cloned().collect();
    exposed.sort();
    let port_bindings = (!bindings.is_empty()).then_some(bindings);
    let devices = spec
        .devices
        .iter()
        .map(|path| DeviceMapping {
            path_on_host: Some(path.clone()),
            path_in_container: Some(path.clone()),
            cgroup_permissions: Some("rwm".into()),
        })
        .collect::<Vec<_>>();
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        hostname: spec.hostname.clone(),
        labels: Some(spec.labels.clone().into_iter().collect()),
        env: some_vec(&spec.env),
        entrypoint: spec.entrypoint.clone(),
        cmd: spec.cmd.clone(),
        tty: spec.tty.then_some(true),
        open_stdin: spec.stdin_once.then_some(true),
        stdin_once: spec.stdin_once.then_some(true),
        attach_stdin: spec.stdin_once.then_some(true),
        exposed_ports: some_vec(&exposed),
        host_config: Some(HostConfig {
            privileged: spec.privileged.then_some(true),
            cap_add: some_vec(&spec.cap_add),
            cap_drop: some_vec(&spec.cap_drop),
            security_opt: some_vec(&spec.security_opt),
            sysctls: some_map(&spec.sysctls),
            mounts: some_vec(&spec.mounts.iter().map(mount).collect::<Vec<_>>()),
            tmpfs: some_map(&spec.tmpfs),
            devices: some_vec(&devices),
            network_mode: network_mode(&spec.network),
            restart_policy: spec.restart.map(restart_policy),
            dns: some_vec(&spec.dns),
            port_bindings,
            cgroupns_mode: spec
                .private_cgroupns
                .then_some(HostConfigCgroupnsModeEnum::PRIVATE),
            init: spec.init,
            auto_remove: spec.auto_remove.then_some(true),
            ..Default::default()
        }),
        networking_config: endpoint(&spec.network),
        ..Default::default()
    }
}

pub(super) fn network_request(spec: &NetworkSpec) -> NetworkCreateRequest {
    let config = spec
        .subnets
        .iter()
        .map(|s| IpamConfig {
            subnet: Some(s.cidr.to_string()),
            gateway: Some(s.gateway.to_string()),
            ip_range: s.ip_range.map(|r| r.to_string()),
            ..Default::default()
        })
        .collect();
    NetworkCreateRequest {
        name: spec.name.clone(),
        driver: Some("bridge".into()),
        enable_ipv6: Some(spec.ipv6),
        ipam: Some(Ipam {
            driver: Some("default".into()),
            config: Some(config),
            options: None,
        }),
        options: Some(HashMap::from([(
            "com.docker.network.bridge.name".to_string(),
            spec.bridge.clone(),
        )])),
        labels: Some(spec.labels.clone().into_iter().collect()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
