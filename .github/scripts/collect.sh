#!/usr/bin/env bash
# kubernetes.yml, step "Collect logs": what the logs artifact holds beyond `dind export logs`,
# in DIR/ci/. It never fails: whatever cannot be collected is written as the reason.
#   collect.sh DIR [CLUSTER_ID]
#   UP_LOG  (environment) the file holding dind up's output, the action's `log` output
#
# DIR/ci/
#   dind-up.log                dind up's output: each phase, and kubeadm's last lines when it failed
#   runner.txt                 the runner: kernel, Docker, cgroups, forwarding sysctls, routes
#   kubectl/*.txt              nodes, pods, Services, EndpointSlices, events, describe of the
#                              test pods, and logs of the test pods and of kube-system's pods
#   nodes/<node>/              per node container: kubeadm's and the kubelet's configuration,
#                              the static pod manifests, systemd's failed units and journal,
#                              the CNI config and IP allocations, and crictl-logs/ (every
#                              container's log: the API server, etcd, CoreDNS, kube-proxy, ...)
set -uo pipefail

dir=${1:?usage: collect.sh DIR [CLUSTER_ID]}
id=${2:-0}
out="$dir/ci"
mkdir -p "$out/kubectl" "$out/nodes"

run() { # FILE COMMAND...: the command's output and errors, headed by the command
  local file=$1
  shift
  {
    echo "# $*"
    "$@"
    echo "# exit code $?"
  } >>"$file" 2>&1
}

if [ -n "${UP_LOG:-}" ] && [ -f "$UP_LOG" ]; then
  cp "$UP_LOG" "$out/dind-up.log"
else
  echo "dind up's log was not found (UP_LOG='${UP_LOG:-}'): the action did not get as far as dind up" >"$out/dind-up.log"
fi

runner="$out/runner.txt"
run "$runner" uname -a
run "$runner" cat /etc/os-release
run "$runner" docker version
run "$runner" docker info
run "$runner" docker ps -a
run "$runner" docker network ls
run "$runner" stat -fc %T /sys/fs/cgroup
run "$runner" sysctl net.ipv6.conf.all.forwarding net.ipv4.ip_forward
run "$runner" ip -6 route
run "$runner" ip -4 route
run "$runner" ip -br addr

if command -v kubectl >/dev/null; then
  k() { # NAME ARGS...: kubectl ARGS into kubectl/NAME.txt, without hanging on a dead API server
    local name=$1
    shift
    run "$out/kubectl/$name.txt" kubectl --request-timeout=20s "$@"
  }
  k nodes get nodes -o wide
  k nodes-yaml get nodes -o yaml
  k pods get pods -A -o wide
  k services get services,endpointslices -A -o wide
  k events get events -A --sort-by=.lastTimestamp
  k test-pods describe pods -n dind-ci
  k test-pods-logs logs -n dind-ci --all-containers --prefix --tail=500 -l 'app in (dind-ci-client,dind-ci-backend)'
  k fetch-logs logs -n dind-ci fetch
  k kube-system-describe describe pods -n kube-system
  k kube-system-logs logs -n kube-system --all-containers --prefix --tail=500 --max-log-requests=50 -l 'k8s-app in (kube-dns,kube-proxy)'
else
  echo "kubectl is not installed" >"$out/kubectl/none.txt"
fi

# The node containers, by dind's labels (the master and the workers of cluster ID).
nodes=$(docker ps -a --format '{{.Names}}' \
  --filter "label=io.github.dind.cluster=$id" --filter "label=io.github.dind.role=master"
docker ps -a --format '{{.Names}}' \
  --filter "label=io.github.dind.cluster=$id" --filter "label=io.github.dind.role=worker")
crictl='crictl --runtime-endpoint unix:///run/containerd/containerd.sock'
for node in $nodes; do
  if ! [[ "$node" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then continue; fi
  nd="$out/nodes/$node"
  mkdir -p "$nd/crictl-logs"
  in_node() { # FILE SCRIPT: a shell script run in the node
    run "$nd/$1" docker exec "$node" sh -c "$2"
  }
  # The scripts below run in the node: their $f is the node's shell's.
  # shellcheck disable=SC2016
  in_node kubeadm.yaml 'cat /etc/dind/kubeadm.yaml'
  # shellcheck disable=SC2016
  in_node kubelet-config.txt 'for f in /var/lib/kubelet/config.yaml /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet /etc/kubernetes/kubelet.conf; do echo "## $f"; cat "$f"; done'
  # shellcheck disable=SC2016
  in_node manifests.yaml 'for f in /etc/kubernetes/manifests/*.yaml; do echo "## $f"; cat "$f"; done'
  in_node systemd.txt 'systemctl --failed --no-pager; systemctl status --no-pager kubelet containerd; systemctl list-units --all --no-pager'
  in_node journal.log 'journalctl --no-pager -n 5000'
  # shellcheck disable=SC2016
  in_node cni.txt 'for f in /etc/cni/net.d/*; do echo "## $f"; cat "$f"; done; echo "## host-local allocations"; ls -lR /var/lib/cni/networks'
  in_node crictl-pods.txt "$crictl pods; $crictl images"
  # Every container's log, named pod_container_id.log.
  docker exec "$node" sh -c "$crictl ps -a -q" 2>/dev/null | while read -r cid; do
    if ! [[ "$cid" =~ ^[0-9a-f]+$ ]]; then continue; fi
    name=$(docker exec "$node" sh -c "$crictl inspect --output go-template --template '{{index .status.labels \"io.kubernetes.pod.name\"}}_{{.status.metadata.name}}' $cid" 2>/dev/null | head -n 1 | tr -c 'A-Za-z0-9_.\n-' _ | cut -c 1-100)
    run "$nd/crictl-logs/${name:-container}_${cid:0:13}.log" docker exec "$node" sh -c "$crictl logs --tail=5000 $cid"
  done
done
if [ -z "$nodes" ]; then
  echo "no node container of cluster $id is left: dind up rolled back, or never created them" >"$out/nodes/none.txt"
fi
echo "collected into $out"
exit 0
