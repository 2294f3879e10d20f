#!/usr/bin/env bash
# kubernetes.yml, step "Kubernetes version and kubectl": the version for `dind up` and a
# kubectl of the same minor, checked against its published sha256.
#   MATRIX_VERSION    the job's matrix entry: "default", or a version such as v1.30
#   DISPATCH_VERSION  the workflow_dispatch input (empty on push and pull_request)
# "default" takes DISPATCH_VERSION, else dind's own default (with the current kubectl
# release). Step output: requested, for the action's kubernetes-version input (empty: dind's
# default).
set -euo pipefail

requested=${MATRIX_VERSION:?}
if [ "$requested" = default ]; then requested=${DISPATCH_VERSION:-}; fi

release=https://dl.k8s.io/release
if [ -z "$requested" ]; then
  version=$(curl -fsSL --retry 3 "$release/stable.txt")
elif [[ "$requested" =~ ^v?([0-9]+\.[0-9]+)(\.[0-9]+)?$ ]]; then
  requested="v${requested#v}"
  if [ -n "${BASH_REMATCH[2]}" ]; then
    version=$requested
  else
    version=$(curl -fsSL --retry 3 "$release/stable-${BASH_REMATCH[1]}.txt")
  fi
else
  echo "::error::kubernetes-version must look like v1.35 or v1.35.2"
  printf 'got: %q\n' "$requested" >&2
  exit 1
fi
echo "dind up gets kubernetes-version '${requested}' (empty: dind's default); kubectl $version"

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *)
    echo "::error::no kubectl build for $(uname -m)"
    exit 1
    ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 -o "$tmp/kubectl" "$release/$version/bin/linux/$arch/kubectl"
curl -fsSL --retry 3 -o "$tmp/kubectl.sha256" "$release/$version/bin/linux/$arch/kubectl.sha256"
echo "$(cat "$tmp/kubectl.sha256")  $tmp/kubectl" | sha256sum --check --strict
sudo install -m 0755 "$tmp/kubectl" /usr/local/bin/kubectl
kubectl version --client
echo "requested=$requested" >> "${GITHUB_OUTPUT:?}"
