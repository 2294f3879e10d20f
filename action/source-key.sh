#!/usr/bin/env bash
# dind's action, step "dind's source key": where this checkout's dind binary is installed and
# the cache key that names it, as step outputs (root, key, hash).
#
# The key hashes everything the binary is built from (Cargo.toml, Cargo.lock, src/, images/,
# which include_dir! embeds), read from the action's own checkout: hashFiles() only sees the
# workspace, not the copy of a remote action under _actions/. Paths are part of the hash, so
# a renamed file changes it too. The runner's OS, architecture and image (ImageOS, e.g.
# ubuntu24) are in the key: a binary linked against a newer glibc must not be restored
# onto an older image.
set -euo pipefail

src="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this as a step of the action}"
cd "$src"
for file in Cargo.toml Cargo.lock; do
  if [ ! -f "$file" ]; then
    echo "::error::$src/$file is missing: the action's checkout is not a dind source tree"
    exit 1
  fi
done
sources=(Cargo.toml Cargo.lock src images)
if [ -f build.rs ]; then sources+=(build.rs); fi

hash=$(find "${sources[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)
hash=${hash%% *}
short=${hash:0:16}
# One directory per source hash: two versions of the action on one self-hosted runner, or
# a stale build, never share an install root.
root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:?}}/dind/$short"
key="dind-bin-v1-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-${ImageOS:-unknown}-$hash"

echo "dind sources $src: sha256 $hash"
echo "install root $root, cache key $key"
{
  echo "hash=$hash"
  echo "root=$root"
  echo "key=$key"
} >> "${GITHUB_OUTPUT:?}"
