#!/usr/bin/env bash
# Baseline of the control-plane benchmark (benches/controlplane.rs): the network plane of
# an IPv6 dind cluster made the way kubeadm-dind-cluster (k-d-c) made it, with plain docker
# CLI commands run one after another. Same network, names, addresses, images, capabilities
# and sysctls as `dind up --no-kubernetes` in ipv6 mode (DNS64 prefix fd00:10:64:ff9b::/96);
# configuration files are bind-mounted, and the post-start steps are `docker exec`s, as in
# k-d-c. Unlike dind it waits for nothing (no readiness checks) and gives nodes no CNI
# config, no routes to other nodes' pod CIDRs and does not drop their IPv4 address.
#
#   kdc-sequential.sh up NODES   network, tayga, bind9, host route, master, NODES workers
#   kdc-sequential.sh down       docker rm -f each container, the host route, the network,
#                                the config files; anything already gone is skipped
#
# Environment: DNS64_IMAGE, NAT64_IMAGE, NODE_IMAGE (dind's images: `docker images
# 'dind/*'`; NODE_IMAGE also runs the host-route helper, so `down` needs it too),
# CLUSTER_ID (61), NAT64_V4_PREFIX (10.100: NAT64's /16 is 10.(100+id)), UPSTREAM_DNS
# (198.18.0.10, the tests' simulated Internet: run this only with it up, as the benchmark
# does). Needs root (the host route) and a Docker daemon.
set -euo pipefail

id=${CLUSTER_ID:-61}
[[ $id =~ ^[0-9]{1,2}$ ]] || { echo "kdc-sequential: CLUSTER_ID must be 0-99" >&2; exit 2; }
id=$((10#$id))
v4_prefix=${NAT64_V4_PREFIX:-10.100}
upstream=${UPSTREAM_DNS:-198.18.0.10}

if [[ $id -eq 0 ]]; then suffix= mgmt6=fd00:20:: ; else suffix=-cluster-$id mgmt6=fd00:20:$id:: ; fi
v4=${v4_prefix%%.*}.$((${v4_prefix#*.} + id))
net=kubeadm-dind-net$suffix
bridge=br-dind$id
label=io.github.dind.bench=kdc-sequential-$id
state=/tmp/dind-bench-kdc-$id
dns64_prefix=fd00:10:64:ff9b::/96
IFS=. read -r a b c d <<<"$upstream"
forwarder=$(printf 'fd00:10:64:ff9b::%x:%x' $((a * 256 + b)) $((c * 256 + d)))
dns64_ip=${mgmt6}100
nat64_ip6=${mgmt6}200
nat64_ip4=$v4.0.200
pool=$v4.0.128/25
sysctls=(--sysctl net.ipv6.conf.all.disable_ipv6=0 --sysctl net.ipv6.conf.default.disable_ipv6=0)
forwarding=(--sysctl net.ipv6.conf.all.forwarding=1 --sysctl net.ipv4.ip_forward=1)

# `ip ...` on the Docker host, from a short-lived host-network container (as k-d-c did).
host_ip() {
    docker run --rm --net host --cap-add NET_ADMIN --label "$label" --entrypoint ip \
        "${NODE_IMAGE:?}" "$@"
}

write_configs() {
    mkdir -p "$state"
    cat >"$state/named.conf" <<EOF
options {
    directory "/var/cache/bind";
    listen-on { none; };
    listen-on-v6 { any; };
    allow-query { any; };
    recursion yes;
    forward only;
    forwarders { $forwarder; };
    dnssec-validation no;
    auth-nxdomain no;
    querylog yes;
    dns64 $dns64_prefix {
        exclude { any; };
    };
};
EOF
    cat >"$state/tayga.conf" <<EOF
tun-device nat64
ipv4-addr $nat64_ip4
prefix $dns64_prefix
dynamic-pool $pool
data-dir /var/spool/tayga
EOF
    # tayga's image routes the pool and the prefix onto its tun device at start.
    printf '%s dev nat64\n%s dev nat64\n' "$pool" "$dns64_prefix" >"$state/tayga-routes"
    chmod 644 "$state"/*
}

up() {
    local nodes=$1 i name
    : "${DNS64_IMAGE:?}" "${NAT64_IMAGE:?}" "${NODE_IMAGE:?}"
    write_configs

    docker network create --ipv6 \
        --subnet "$v4.0.0/16" --gateway "$v4.0.1" --ip-range "$v4.128.0/17" \
        --subnet "${mgmt6}/64" --gateway "${mgmt6}1" \
        -o "com.docker.network.bridge.name=$bridge" --label "$label" "$net" >/dev/null

    docker run -d --name "tayga$suffix" --hostname "tayga$suffix" --label "$label" \
        --net "$net" --ip "$nat64_ip4" --ip6 "$nat64_ip6" \
        --cap-add NET_ADMIN --device /dev/net/tun "${sysctls[@]}" "${forwarding[@]}" \
        --restart unless-stopped \
        -v "$state/tayga.conf:/etc/tayga.conf:ro" -v "$state/tayga-routes:/etc/dind/routes:ro" \
        "$NAT64_IMAGE" >/dev/null

    docker run -d --name "bind9$suffix" --hostname "bind9$suffix" --label "$label" \
        --net "$net" --ip6 "$dns64_ip" \
        --cap-add NET_ADMIN "${sysctls[@]}" --restart unless-stopped \
        -v "$state/named.conf:/etc/bind/named.conf:ro" \
        "$DNS64_IMAGE" >/dev/null
    # k-d-c: DNS64 is IPv6-only, and reaches its IPv4 upstream through NAT64.
    docker exec "bind9$suffix" sh -c \
        'ip addr del "$(ip -4 -o addr show dev eth0 | awk "{print \$4}")" dev eth0'
    docker exec "bind9$suffix" ip -6 route add "$dns64_prefix" via "$nat64_ip6"

    # Replies to the NAT64 pool come back to tayga.
    host_ip route add "$pool" via "$nat64_ip4"

    for ((i = 0; i <= nodes; i++)); do
        if [[ $i -eq 0 ]]; then name=kube-master$suffix; else name=kube-node-$i$suffix; fi
        docker run -d --name "$name" --hostname "$name" --label "$label" \
            --net "$net" --ip6 "${mgmt6}$(printf %x $((i + 2)))" \
            --cap-add NET_ADMIN --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
            "${sysctls[@]}" "${forwarding[@]}" \
            "$NODE_IMAGE" >/dev/null
        docker exec "$name" ip -6 route add "$dns64_prefix" via "$nat64_ip6"
        docker exec "$name" sh -c "printf 'nameserver %s\noptions timeout:2 attempts:3\n' $dns64_ip >/etc/resolv.conf"
    done
}

down() {
    local container out
    for container in $(docker ps -aq --filter "label=$label"); do
        docker rm -f "$container" >/dev/null
    done
    if ! out=$(host_ip route del "$pool" via "$nat64_ip4" 2>&1); then
        # Already gone: the route, or the bridge (and with it the route).
        case $out in
        *"No such process"* | *"Nexthop has invalid gateway"* | *"Network is unreachable"*) ;;
        *) echo "$out" >&2; exit 1 ;;
        esac
    fi
    if ! out=$(docker network rm "$net" 2>&1) && docker network inspect "$net" >/dev/null 2>&1; then
        echo "$out" >&2
        exit 1
    fi
    rm -rf "$state"
}

case ${1:-} in
up)
    [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "usage: $0 up NODES | down" >&2; exit 2; }
    up "$2"
    ;;
down) down ;;
*)
    echo "usage: $0 up NODES | down" >&2
    exit 2
    ;;
esac
