#!/usr/bin/env bash
# kubernetes.yml, after `dind down`: nothing of the cluster is left on the runner.
#   nothing-left.sh VOLUMES_BEFORE [CLUSTER_ID [NAT64_V4_PREFIX]]
# VOLUMES_BEFORE lists the Docker volumes from before `dind up` (sorted, one a line): the
# nodes' /var volumes are anonymous, without dind's label, so new volumes are compared with
# it. CLUSTER_ID (default 0) and NAT64_V4_PREFIX (default 172.18) name tayga's pool route
# (172.(18+id).0.128/25) and the host bridge (br-dind<id>).
set -euo pipefail

before=${1:?usage: nothing-left.sh VOLUMES_BEFORE [CLUSTER_ID [NAT64_V4_PREFIX]]}
id=${2:-0}
prefix=${3:-172.18}
pool="${prefix%%.*}.$((${prefix#*.} + id)).0.128/25"
label=io.github.dind.cluster

left=0
leftover() { # WHAT LIST: an error when LIST is not empty
  if [ -n "$2" ]; then
    echo "::error::left behind after dind down: $1"
    printf '%s\n' "$2"
    left=1
  fi
}
containers=$(docker ps -aq --filter "label=$label")
networks=$(docker network ls -q --filter "label=$label")
volumes=$(docker volume ls -q --filter "label=$label")
new_volumes=$(docker volume ls -q | LC_ALL=C sort | LC_ALL=C comm -13 "$before" -)
rules6=$(sudo ip6tables-save)
rules4=$(sudo iptables-save)
leftover "containers labelled $label" "$containers"
leftover "networks labelled $label" "$networks"
leftover "volumes labelled $label" "$volumes"
leftover "volumes made since before dind up" "$new_volumes"
leftover "ip6tables rules tagged dind:cluster=" "$(grep -F 'dind:cluster=' <<<"$rules6" || true)"
leftover "iptables rules tagged dind:cluster=" "$(grep -F 'dind:cluster=' <<<"$rules4" || true)"
if command -v kubectl >/dev/null; then
  contexts=$(kubectl config get-contexts -o name 2>/dev/null || true)
  leftover "kubeconfig contexts" "$(grep -E '^dind(-cluster-[0-9]+)?$' <<<"$contexts" || true)"
else
  echo "no kubectl here: the kubeconfig contexts are not checked"
fi
leftover "the host route to tayga's pool $pool" "$(ip -4 route show "$pool")"
leftover "the bridge br-dind$id" "$(ip -br link show "br-dind$id" 2>/dev/null || true)"
if [ "$left" -eq 0 ]; then echo "nothing left behind"; fi
exit "$left"
