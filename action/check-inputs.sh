#!/usr/bin/env bash
# dind's action, step "Check the inputs": the boolean inputs are 'true' or 'false', before any
# later step decides on them (the post step's condition reads install-only and retain).
set -euo pipefail

bad=0
boolean() { # NAME VALUE: true or false, else an error
  case "$2" in
    true | false) ;;
    *)
      echo "::error::input $1 must be 'true' or 'false'"
      printf 'got: %q\n' "$2" >&2
      bad=1
      ;;
  esac
}
boolean allow-aaaa "${IN_ALLOW_AAAA-}"
boolean install-only "${IN_INSTALL_ONLY-}"
boolean retain "${IN_RETAIN-}"
exit "$bad"
