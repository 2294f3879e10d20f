#!/usr/bin/env bash
# dind's action, step "dind up": one flag for each non-empty input, dind's output also kept
# in a log file, and the cluster registered for the post step's `dind down` unless retain is
# 'true'. Inputs arrive only through the environment (IN_*), never spliced into this text;
# the names avoid dind's own variables (IP_MODE, NUM_NODES, CLUSTER_ID, ...).
# Step outputs: context, kubeconfig, cluster-id, log.
set -euo pipefail

bin="${IN_BIN:?}"
# GITHUB_PATH applies from the next step on; this one calls the binary by its path.
PATH="$(dirname "$bin"):$PATH"

if [ "${IN_INSTALL_ONLY:-false}" = true ]; then
  echo "install-only: dind is on PATH, no cluster made"
  exit 0
fi

state="${RUNNER_TEMP:?}/dind-action"
mkdir -p "$state"
log=$(mktemp "$state/up-XXXXXX.log")
echo "log=$log" >> "${GITHUB_OUTPUT:?}"

auto_down=true
if [ "${IN_RETAIN:-false}" = true ]; then auto_down=false; fi
if [ "$auto_down" = true ]; then
  # The post step runs from another action's directory: it finds its script and the binary
  # here, at a path that only depends on RUNNER_TEMP.
  install -m 0755 "${GITHUB_ACTION_PATH:?}/action/post-down.sh" "$state/post-down.sh"
  printf '%s\n' "$bin" > "$state/dind-bin"
fi
register() { # ID: the post step takes cluster ID down
  if [ "$auto_down" = true ] && [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -le 254 ]; then
    printf '%s\n' "$1" >> "$state/clusters"
  fi
}

# The cluster id, when it is certain before `up` (dind's precedence: flag, environment,
# config file, default). It is registered before `up` runs, so that a cancelled or failed
# `up` is taken down too. When the config file decides, the clusters that exist after `up`
# but did not before are this run's (a cluster that was already there, and that `up` only
# resumed, is left alone); only when the clusters cannot be listed does the context that
# `up` made current name the cluster.
id=
if [[ "$IN_CLUSTER_ID" =~ ^[0-9]+$ ]]; then
  id=$((10#$IN_CLUSTER_ID))
elif [ -z "$IN_CLUSTER_ID" ] && [[ "${CLUSTER_ID:-}" =~ ^[0-9]+$ ]]; then
  id=$((10#$CLUSTER_ID))
elif [ -z "$IN_CLUSTER_ID" ] && [ -z "${CLUSTER_ID:-}" ] && [ -z "$IN_CONFIG" ]; then
  id=0
fi
cluster_ids() { # the ids of the clusters on this Docker host, one a line
  "$bin" status -o json | python3 -c '
import json, sys
for cluster in json.load(sys.stdin):
    print(cluster["clusterId"])
'
}
before=
listed=false
if [ -n "$id" ]; then
  register "$id"
elif [ "$auto_down" = true ]; then
  if before=$(cluster_ids); then
    listed=true
  else
    echo "::warning::could not list the clusters before dind up: the post step will only know the cluster from its kubeconfig context"
  fi
fi

# A flag only for a non-empty input, so that an empty one leaves the choice to the
# environment, the config file or dind's default (in that order).
args=(up)
if [ -n "$IN_CONFIG" ]; then args+=(--config "$IN_CONFIG"); fi
if [ -n "$IN_CLUSTER_ID" ]; then args+=(--cluster-id "$IN_CLUSTER_ID"); fi
if [ -n "$IN_IP_MODE" ]; then args+=(--ip-mode "$IN_IP_MODE"); fi
if [ -n "$IN_NODES" ]; then args+=(--nodes "$IN_NODES"); fi
if [ "$IN_ALLOW_AAAA" = true ]; then args+=(--allow-aaaa); fi
if [ -n "$IN_K8S_VERSION" ]; then args+=(--kubernetes-version "$IN_K8S_VERSION"); fi
if [ -n "$IN_WAIT" ]; then args+=(--wait "$IN_WAIT"); fi
if [ "$auto_down" = false ]; then args+=(--retain); fi
printf '+ dind'
printf ' %q' "${args[@]}"
printf '\n'
set +e
"$bin" "${args[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

new_ids() { # the clusters listed now and not before dind up
  local after
  after=$(cluster_ids) || return 1
  LC_ALL=C comm -13 <(printf '%s\n' "$before" | LC_ALL=C sort -u) \
    <(printf '%s\n' "$after" | LC_ALL=C sort -u) | sed '/^$/d'
}
if [ -z "$id" ] && [ "$listed" = true ]; then
  if made=$(new_ids); then
    while read -r new; do
      if [ -n "$new" ]; then register "$new"; fi
    done <<<"$made"
    if [ "$(sed -n '$=' <<<"$made")" = 1 ]; then id=$made; fi
  else
    echo "::warning::could not list the clusters after dind up"
  fi
fi
echo "cluster-id=$id" >> "$GITHUB_OUTPUT"
if [ "$rc" -ne 0 ]; then
  echo "::error::dind up failed (exit code $rc); its output is in $log"
  exit "$rc"
fi

# dind merges the context into the first file of $KUBECONFIG, else ~/.kube/config.
kubeconfig="${KUBECONFIG:-}"
kubeconfig="${kubeconfig%%:*}"
kubeconfig="${kubeconfig:-$HOME/.kube/config}"
if [ -n "$id" ]; then
  if [ "$id" -eq 0 ]; then context=dind; else context="dind-cluster-$id"; fi
else
  # The id came from the config file: up has just made its context the current one.
  context=$(sed -n -E 's/^current-context:[[:space:]]*["'\'']?([^"'\''[:space:]]*).*/\1/p' "$kubeconfig" 2>/dev/null | head -n 1 || true)
  if ! [[ "$context" =~ ^dind(-cluster-[0-9]+)?$ ]]; then
    echo "::warning::could not tell the cluster's context from $kubeconfig"
    context=
  fi
  if [ "$listed" = false ]; then
    if [[ "$context" =~ ^dind-cluster-([0-9]+)$ ]]; then
      register "${BASH_REMATCH[1]}"
    elif [ "$context" = dind ]; then
      register 0
    fi
  fi
fi
{
  echo "context=$context"
  echo "kubeconfig=$kubeconfig"
} >> "$GITHUB_OUTPUT"

# For the log only: the caller's own steps judge the cluster.
if command -v kubectl >/dev/null; then
  kubectl --kubeconfig "$kubeconfig" get nodes -o wide \
    || echo "::warning::kubectl get nodes failed (a cluster without Kubernetes has no API server)"
fi
