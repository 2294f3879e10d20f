#!/usr/bin/env bash
# dind's action, the post step: at the end of the job, `dind down --cluster-id N` for every
# cluster that a use of the action in this job brought up without `retain`. up.sh copies this
# file to $RUNNER_TEMP/dind-action/ and lists the ids in clusters there, one a line; the
# binary it used is in dind-bin. Each use of the action registers its own post step, so the
# first one to run takes every listed cluster down and empties the list; the others find
# nothing left to do. `down` removes only what the cluster's labels record, and a cluster
# already gone is not an error.
set -uo pipefail

state="${RUNNER_TEMP:?}/dind-action"
list="$state/clusters"
if [ ! -s "$list" ]; then
  echo "dind: no cluster of this job left to take down"
  exit 0
fi
dind=dind
if [ -s "$state/dind-bin" ]; then dind=$(cat "$state/dind-bin"); fi

status=0
while read -r id; do
  if ! [[ "$id" =~ ^[0-9]+$ ]]; then continue; fi
  echo "+ dind down --cluster-id $id"
  if ! "$dind" down --cluster-id "$id"; then
    echo "::error::dind down --cluster-id $id failed at the end of the job: the cluster may be left on the runner"
    status=1
  fi
done < <(LC_ALL=C sort -un "$list")
: > "$list"
exit "$status"
