#!/usr/bin/env bash
# dind's action, step "Install dind": reuses the binary under IN_ROOT when it was built from
# the same sources (IN_HASH, written beside it as .source-hash) and runs; else builds it with
# `cargo install`. Puts IN_ROOT/bin on PATH. Step outputs: bin (the binary), built (true when
# this step compiled it, so the next step saves it to the cache) and cache-hit (the opposite).
set -euo pipefail

root="${IN_ROOT:?}"
hash="${IN_HASH:?}"
bin="$root/bin/dind"
marker="$root/.source-hash"

if [ "${RUNNER_OS:-Linux}" != Linux ]; then
  echo "::error::dind needs a Linux runner with a Docker daemon (this one is $RUNNER_OS)"
  exit 1
fi

reusable() {
  [ -x "$bin" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$hash" ] \
    && "$bin" --version >/dev/null 2>&1
}

if reusable; then
  echo "dind built from these sources is in $root (restored from the cache or left by an earlier step): no build"
  built=false
else
  if [ -e "$bin" ]; then
    echo "$bin is not usable for these sources: rebuilding"
  fi
  if ! command -v cargo >/dev/null; then
    echo "::error::cargo not found, and no cached dind for these sources: install a Rust toolchain first (e.g. dtolnay/rust-toolchain)"
    exit 1
  fi
  # A --path install always rebuilds; the marker is written only after it succeeded.
  rm -f "$marker"
  cargo install --locked --path "${GITHUB_ACTION_PATH:?}" --root "$root"
  printf '%s\n' "$hash" > "$marker"
  built=true
fi

echo "$root/bin" >> "${GITHUB_PATH:?}"
"$bin" --version
{
  echo "bin=$bin"
  echo "built=$built"
  if [ "$built" = true ]; then echo "cache-hit=false"; else echo "cache-hit=true"; fi
} >> "${GITHUB_OUTPUT:?}"
