#!/usr/bin/env bash
# The assertions of .github/workflows/kubernetes.yml on a cluster that `dind up` made: what a
# user relies on, one subcommand per workflow step, each failure an ::error:: line that says
# what was seen and what was wanted.
#
#   kube-checks.sh nodes       every node Ready, named as its container, InternalIPs of the
#                              IP mode's families only
#   kube-checks.sh workloads   namespace dind-ci: a client pod and netexec backends pinned to
#                              nodes (spec.nodeName), a Service per backend; pod addresses in
#                              the pod CIDRs, ClusterIPs in the service CIDRs
#   kube-checks.sh egress      a pod fetches the IPv4-only github.com; in ipv6 mode through
#                              NAT64 (its remote address inside the DNS64 prefix)
#   kube-checks.sh services    each Service answered by its own backend, on the client's node
#                              and on another node, by every ClusterIP and by DNS name
#   kube-checks.sh dns         each Service name resolves (FQDN and search path) to exactly
#                              its ClusterIPs, family by family
#   kube-checks.sh pod-to-pod  a server pod sees the client pod's own address, across nodes
#                              (and on one node): no masquerading between pods
#
# Settings, from the environment:
#   WANT_IP_MODE  ipv6, ipv4 or dual-stack
#   WANT_WORKERS  the number of workers besides the master (0 for a single node)
# Cluster 0's names: the master kube-master, workers kube-node-1, kube-node-2, ...
set -euo pipefail

NS=dind-ci
AGNHOST=registry.k8s.io/e2e-test-images/agnhost:2.53
NAT64_PREFIX=fd00:10:64:ff9b::/96
POD_CIDR6=fd00:40::/72
POD_CIDR4=10.244.0.0/16
SERVICE_CIDR6=fd00:30::/110
SERVICE_CIDR4=10.96.0.0/12
MASTER=kube-master

mode=${WANT_IP_MODE:?WANT_IP_MODE: ipv6, ipv4 or dual-stack}
workers=${WANT_WORKERS:?WANT_WORKERS: the number of workers}
case "$mode" in
  ipv6) families=(6) pod_cidrs=("$POD_CIDR6") service_cidrs=("$SERVICE_CIDR6") ;;
  ipv4) families=(4) pod_cidrs=("$POD_CIDR4") service_cidrs=("$SERVICE_CIDR4") ;;
  dual-stack)
    # IPv6 is the primary family: listed first.
    families=(6 4) pod_cidrs=("$POD_CIDR6" "$POD_CIDR4") service_cidrs=("$SERVICE_CIDR6" "$SERVICE_CIDR4")
    ;;
  *)
    echo "::error::WANT_IP_MODE must be ipv6, ipv4 or dual-stack, not '$mode'"
    exit 2
    ;;
esac
if ! [[ "$workers" =~ ^[0-9]+$ ]]; then
  echo "::error::WANT_WORKERS must be a number, not '$workers'"
  exit 2
fi

# Where the test pods go: the client on the first worker (the master on a single node), one
# backend beside it, one on another node.
if [ "$workers" -ge 1 ]; then client_node=kube-node-1; else client_node=$MASTER; fi
if [ "$workers" -ge 2 ]; then
  other_node=kube-node-2
elif [ "$workers" -eq 1 ]; then
  other_node=$MASTER
else
  other_node=
fi

bad=0
fail() { # MESSAGE: an annotation, and this step fails at its end
  echo "::error::$*"
  bad=1
}

family() { # IP: 6 or 4
  case "$1" in
    *:*) echo 6 ;;
    *.*) echo 4 ;;
    *) echo '?' ;;
  esac
}

inside() { # IP CIDR...: whether IP lies in one of the CIDRs
  python3 - "$@" <<'PY'
import ipaddress, sys
try:
    ip = ipaddress.ip_address(sys.argv[1])
except ValueError:
    sys.exit(2)
sys.exit(0 if any(ip in ipaddress.ip_network(n) for n in sys.argv[2:]) else 1)
PY
}

same_ip() { # A B: the same address (however written)
  python3 - "$1" "$2" <<'PY'
import ipaddress, sys
try:
    sys.exit(0 if ipaddress.ip_address(sys.argv[1]) == ipaddress.ip_address(sys.argv[2]) else 1)
except ValueError:
    sys.exit(2)
PY
}

url_host() { # IP or name: as the host part of a URL
  case "$1" in
    *:*) echo "[$1]" ;;
    *) echo "$1" ;;
  esac
}

of_family() { # FAMILY IP...: the IPs of FAMILY
  local want=$1 ip
  shift
  for ip in "$@"; do
    if [ "$(family "$ip")" = "$want" ]; then echo "$ip"; fi
  done
}

# The families of IPS, against the IP mode's: 'ok', or what is wrong.
families_judgement() { # IP...
  local v4=0 v6=0 ip
  for ip in "$@"; do
    case "$(family "$ip")" in
      6) v6=$((v6 + 1)) ;;
      4) v4=$((v4 + 1)) ;;
    esac
  done
  case "$mode" in
    ipv6) if [ "$v6" -ge 1 ] && [ "$v4" -eq 0 ]; then echo ok; else echo "want IPv6 only"; fi ;;
    ipv4) if [ "$v4" -ge 1 ] && [ "$v6" -eq 0 ]; then echo ok; else echo "want IPv4 only"; fi ;;
    dual-stack) if [ "$v6" -ge 1 ] && [ "$v4" -ge 1 ]; then echo ok; else echo "want an IPv6 and an IPv4 address"; fi ;;
  esac
}

debug_pods() { # what a failed wait needs to be understood
  kubectl -n "$NS" get pods -o wide || true
  kubectl -n "$NS" describe pods || true
  kubectl -n "$NS" get events --sort-by=.lastTimestamp || true
}

ensure_namespace() {
  kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  # The controller manager creates the namespace's default ServiceAccount shortly after;
  # no pod can be created before.
  local _
  for _ in $(seq 60); do
    if kubectl -n "$NS" get serviceaccount default >/dev/null 2>&1; then return 0; fi
    sleep 2
  done
  echo "::error::namespace $NS has no default ServiceAccount after 2m: is kube-controller-manager running?"
  kubectl -n kube-system get pods -o wide || true
  exit 1
}

pod_ips() { # POD: its addresses, space-separated
  kubectl -n "$NS" get pod "$1" -o jsonpath='{.status.podIPs[*].ip}'
}

service_ips() { # SERVICE: its ClusterIPs, space-separated
  kubectl -n "$NS" get service "$1" -o jsonpath='{.spec.clusterIPs[*]}'
}

body=
fetch() { # URL: GET it from the client pod, retried for about a minute; the answer in $body
  local url=$1 _
  for _ in $(seq 12); do
    if body=$(kubectl -n "$NS" exec client -- curl -fsS -g --max-time 5 "$url" 2>&1); then
      return 0
    fi
    sleep 5
  done
  return 1
}

backends() { # the backends (pod and Service names) this cluster has room for
  echo same
  if [ -n "$other_node" ]; then echo other; fi
}

where() { # BACKEND: a description of where it runs
  case "$1" in
    same) echo "on $client_node, the client's node" ;;
    other) echo "on $other_node, another node than the client's ($client_node)" ;;
  esac
}

require_workloads() {
  if ! kubectl -n "$NS" wait --for=condition=Ready pod/client --timeout=30s >/dev/null 2>&1; then
    echo "::error::the test pods of namespace $NS are not Ready: see the step 'Test workloads'"
    debug_pods
    exit 1
  fi
}

check_nodes() {
  local ready_ok=true
  if ! kubectl wait --for=condition=Ready nodes --all --timeout=3m; then
    ready_ok=false
  fi
  kubectl get nodes -o wide || true
  local want=("$MASTER") k
  for ((k = 1; k <= workers; k++)); do want+=("kube-node-$k"); done
  local rows
  if ! rows=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}'); then
    fail "kubectl get nodes failed: is the API server up? (the master's crictl logs in the logs artifact)"
    exit 1
  fi
  local names=() name ready addresses ips judgement
  while read -r name ready addresses; do
    [ -n "$name" ] || continue
    names+=("$name")
    read -ra ips <<<"$addresses"
    if [ "$ready" != True ]; then
      fail "node $name is not Ready (Ready=${ready:-unknown}); its kubelet.log in the logs artifact says why"
    fi
    judgement=$(families_judgement "${ips[@]}")
    if [ "$judgement" != ok ]; then
      fail "node $name ($mode): InternalIPs ${addresses:-none}, $judgement"
    elif [ "$mode" = dual-stack ] && [ "$(family "${ips[0]}")" != 6 ]; then
      echo "::warning::node $name: the first InternalIP is ${ips[0]}, not the primary family (IPv6)"
    fi
  done <<<"$rows"
  local got_sorted want_sorted
  got_sorted=$(printf '%s\n' "${names[@]}" | LC_ALL=C sort | paste -sd' ' -)
  want_sorted=$(printf '%s\n' "${want[@]}" | LC_ALL=C sort | paste -sd' ' -)
  if [ "$got_sorted" != "$want_sorted" ]; then
    fail "nodes: ${got_sorted:-none}; want $want_sorted (the master and $workers worker(s), named as their containers)"
  fi
  if [ "$ready_ok" = false ] && [ "$bad" -eq 0 ]; then
    fail "kubectl wait: not every node became Ready within 3m"
  fi
}

check_workloads() {
  ensure_namespace
  local pods=(client) b
  local manifest
  manifest=$(
    cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: client
  labels: {app: dind-ci-client}
spec:
  nodeName: $client_node
  terminationGracePeriodSeconds: 0
  containers:
    - name: client
      image: $AGNHOST
      args: [pause]
YAML
    for b in $(backends); do
      if [ "$b" = same ]; then node=$client_node; else node=$other_node; fi
      cat <<YAML
---
apiVersion: v1
kind: Pod
metadata:
  name: $b
  labels: {app: dind-ci-backend, backend: $b}
spec:
  nodeName: $node
  terminationGracePeriodSeconds: 0
  containers:
    - name: netexec
      image: $AGNHOST
      args: [netexec, --http-port=8080]
      ports: [{containerPort: 8080}]
      readinessProbe:
        httpGet: {path: /hostname, port: 8080}
        periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: $b
spec:
  # Both families in a dual-stack cluster (IPv6 first); the one family otherwise.
  ipFamilyPolicy: PreferDualStack
  selector: {backend: $b}
  ports: [{port: 80, targetPort: 8080}]
YAML
    done
  )
  for b in $(backends); do pods+=("$b"); done
  kubectl -n "$NS" apply -f - <<<"$manifest"
  local targets=()
  for b in "${pods[@]}"; do targets+=("pod/$b"); done
  # The first pull of agnhost goes through DNS64 and NAT64 in an ipv6 cluster.
  if ! kubectl -n "$NS" wait --for=condition=Ready "${targets[@]}" --timeout=5m; then
    fail "the test pods (${pods[*]}) did not become Ready within 5m"
    debug_pods
    exit 1
  fi
  kubectl -n "$NS" get pods,services -o wide

  local pod node ips judgement ip
  for pod in "${pods[@]}"; do
    node=$(kubectl -n "$NS" get pod "$pod" -o jsonpath='{.spec.nodeName}')
    read -ra ips <<<"$(pod_ips "$pod")"
    judgement=$(families_judgement "${ips[@]}")
    if [ "$judgement" != ok ]; then
      fail "pod $pod on $node ($mode): addresses ${ips[*]:-none}, $judgement"
    fi
    for ip in "${ips[@]}"; do
      if ! inside "$ip" "${pod_cidrs[@]}"; then
        fail "pod $pod on $node: address $ip is outside the pod CIDRs ${pod_cidrs[*]}"
      fi
    done
  done
  local service
  for service in $(backends); do
    read -ra ips <<<"$(service_ips "$service")"
    judgement=$(families_judgement "${ips[@]}")
    if [ "$judgement" != ok ]; then
      fail "Service $service ($mode, ipFamilyPolicy PreferDualStack): ClusterIPs ${ips[*]:-none}, $judgement"
    elif [ "$(family "${ips[0]}")" != "${families[0]}" ]; then
      fail "Service $service: its first ClusterIP ${ips[0]} is not of the primary family (IPv${families[0]})"
    fi
    for ip in "${ips[@]}"; do
      if ! inside "$ip" "${service_cidrs[@]}"; then
        fail "Service $service: ClusterIP $ip is outside the service CIDRs ${service_cidrs[*]}"
      fi
    done
  done
}

check_egress() {
  ensure_namespace
  # An image the job already has, with curl: dind's own node-base image, put into the nodes
  # with `dind load` (no registry is asked for it).
  local image
  image=$(docker images --filter label=io.github.dind.image=node-base \
    --format '{{.Repository}}:{{.Tag}}' | head -n 1)
  [ -n "$image" ] || { fail "no dind/node-base image on the runner's Docker"; exit 1; }
  dind load docker-image "$image"
  kubectl -n "$NS" delete pod fetch --ignore-not-found --wait=true >/dev/null
  kubectl -n "$NS" run fetch --image="$image" --image-pull-policy=Never --restart=Never --command -- \
    curl -sS -o /dev/null -w '%{remote_ip} %{http_code}' --max-time 30 \
    --retry 3 --retry-all-errors --retry-delay 2 https://github.com
  if ! kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Succeeded pod/fetch --timeout=4m; then
    fail "pod fetch (curl https://github.com) did not succeed within 4m"
    kubectl -n "$NS" describe pod fetch || true
    kubectl -n "$NS" logs fetch || true
    exit 1
  fi
  local out ip code
  out=$(kubectl -n "$NS" logs fetch)
  echo "fetch: $out"
  read -r ip code <<<"$out" || true
  if [ "$mode" = ipv6 ]; then
    # github.com has no AAAA record: DNS64 must have made one up inside the NAT64 prefix.
    case $(inside "${ip:-}" "$NAT64_PREFIX"; echo $?) in
      0) echo "$ip is inside $NAT64_PREFIX: the fetch went through NAT64" ;;
      1) fail "the pod reached github.com at $ip, not through NAT64 ($NAT64_PREFIX)" ;;
      *) fail "the pod's remote address '${ip:-}' is not an IP address" ;;
    esac
    case "${code:-}" in
      200 | 301) echo "HTTP $code" ;;
      *) fail "github.com answered the pod with HTTP code ${code:-none}, want 200 or 301" ;;
    esac
  else
    case "${code:-}" in
      2?? | 3??) echo "HTTP $code from ${ip:-?} (IPv$(family "${ip:-}"))" ;;
      *) fail "github.com answered the pod with HTTP code ${code:-none} (from ${ip:-?}), want a success" ;;
    esac
  fi
}

check_services() {
  require_workloads
  local service ips ip name
  for service in $(backends); do
    read -ra ips <<<"$(service_ips "$service")"
    if [ "${#ips[@]}" -eq 0 ]; then
      fail "Service $service has no ClusterIP"
      continue
    fi
    # netexec's /hostname is the pod's name: it tells which backend answered.
    for ip in "${ips[@]}"; do
      if ! fetch "http://$(url_host "$ip")/hostname"; then
        fail "Service $service (backend $(where "$service")) by ClusterIP $ip: no answer within a minute: $body"
      elif [ "$body" != "$service" ]; then
        fail "Service $service by ClusterIP $ip: answered by '$body', want its backend $service"
      else
        echo "Service $service by ClusterIP $ip: answered by $body ($(where "$service"))"
      fi
    done
    name="$service.$NS.svc.cluster.local"
    if ! fetch "http://$name/hostname"; then
      fail "Service $service (backend $(where "$service")) by DNS name $name: no answer within a minute: $body"
    elif [ "$body" != "$service" ]; then
      fail "Service $service by DNS name $name: answered by '$body', want its backend $service"
    else
      echo "Service $service by DNS name $name: answered by $body"
    fi
  done
  if [ -z "$other_node" ]; then
    echo "a single node: no Service with a backend on another node"
  fi
}

dig_answers() { # TYPE NAME [+search]: the addresses; fails when dig gets no answer at all
  local out
  out=$(kubectl -n "$NS" exec client -- dig +short +time=3 +tries=2 "$@" 2>&1) || {
    echo "$out"
    return 1
  }
  # +short may add a CNAME line; keep the addresses.
  grep -E '^[0-9a-fA-F:.]+$' <<<"$out" | grep -E '[:.]' | LC_ALL=C sort || true
}

check_dns() {
  require_workloads
  echo "the client pod's resolv.conf:"
  kubectl -n "$NS" exec client -- cat /etc/resolv.conf || fail "cannot read the client pod's resolv.conf"
  local service ips name query want got f type
  for service in $(backends); do
    read -ra ips <<<"$(service_ips "$service")"
    for query in "$service.$NS.svc.cluster.local" "$service +search"; do
      read -r name _ <<<"$query"
      for f in 6 4; do
        if [ "$f" = 6 ]; then type=AAAA; else type=A; fi
        want=$(of_family "$f" "${ips[@]}" | LC_ALL=C sort)
        # shellcheck disable=SC2086 # the query's words: the name, maybe +search
        if ! got=$(dig_answers "$type" $query); then
          fail "DNS: $type $name from the client pod got no answer (CoreDNS unreachable?): $got"
          continue
        fi
        if [ "$got" != "$want" ]; then
          fail "DNS: $type $name = '$(paste -sd' ' - <<<"$got")', want '$(paste -sd' ' - <<<"$want")' (Service $service's ClusterIPs of IPv$f)"
        else
          echo "DNS: $type $name = $(paste -sd' ' - <<<"${got:-(none, as wanted)}")"
        fi
      done
    done
  done
}

check_pod_to_pod() {
  require_workloads
  local client_ips server server_node server_ips sip cip seen f node_hint
  read -ra client_ips <<<"$(pod_ips client)"
  # A peer's address as a node's: the sign of masquerading between pods.
  local node_rows
  node_rows=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')
  for server in $(backends); do
    server_node=$(kubectl -n "$NS" get pod "$server" -o jsonpath='{.spec.nodeName}')
    read -ra server_ips <<<"$(pod_ips "$server")"
    for sip in "${server_ips[@]}"; do
      f=$(family "$sip")
      cip=$(of_family "$f" "${client_ips[@]}" | head -n 1)
      if ! fetch "http://$(url_host "$sip"):8080/clientip"; then
        fail "pod to pod: client ($client_node) to pod $server ($server_node) at $sip: no answer within a minute: $body"
        continue
      fi
      # netexec answers with the connection's remote address, host:port ([v6]:port).
      seen=${body%:*}
      seen=${seen#[}
      seen=${seen%]}
      if [ -n "$cip" ] && same_ip "$seen" "$cip"; then
        echo "pod to pod: $server on $server_node saw the client ($client_node) as $seen, its own pod address"
      else
        node_hint=$(awk -v ip="$seen" '{ for (i = 2; i <= NF; i++) if ($i == ip) print " (the InternalIP of node " $1 ": the traffic was masqueraded)" }' <<<"$node_rows")
        fail "pod to pod: $server on $server_node saw the client ($client_node) as '$seen'$node_hint, want the client pod's IPv$f address ${cip:-none}"
      fi
    done
  done
}

case "${1:-}" in
  nodes) check_nodes ;;
  workloads) check_workloads ;;
  egress) check_egress ;;
  services) check_services ;;
  dns) check_dns ;;
  pod-to-pod) check_pod_to_pod ;;
  *)
    echo "usage: kube-checks.sh nodes|workloads|egress|services|dns|pod-to-pod" >&2
    exit 2
    ;;
esac
exit "$bad"
