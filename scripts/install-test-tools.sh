#!/usr/bin/env bash
# Install the system tools the test suite runs for real, when they are missing (idempotent).
#
#   busybox  tests/test_api_key_proxy_nginx.py runs the proxy's entrypoint under `busybox sh`, the shell of
#            the Alpine nginx image, as well as under the system's sh.
# (nginx with njs and promtool come from the test root: scripts/install-test-root.sh.)
#
# Exits 0 at once when every tool is there. Otherwise installs the missing ones with apt-get (as root,
# or through `sudo -n`), running `apt-get update` only when the package lists do not know a package.
# Usage: scripts/install-test-tools.sh
set -euo pipefail

have() {  # have TOOL: the tool is on PATH or in /usr/sbin (not on a non-root user's PATH)
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

missing=()
have busybox || missing+=(busybox)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-tools: busybox already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-tools: ${missing[*]} missing and apt-get is not available; install by hand" >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "install-test-tools: installing ${missing[*]} needs root (or sudo)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive

known() {  # known PACKAGE: the package lists have it
  [ -n "$(apt-cache show --no-all-versions "$1" 2>/dev/null)" ]
}

updated=0
ensure_lists() {  # ensure_lists PACKAGE: run `apt-get update` once, when the lists lack the package
  if [ "$updated" -eq 0 ] && ! known "$1"; then
    echo "install-test-tools: apt-get update"
    "${as_root[@]}" apt-get update -qq
    updated=1
  fi
}

packages=()
for tool in "${missing[@]}"; do
  ensure_lists "$tool"
  packages+=("$tool")
done

echo "install-test-tools: installing ${packages[*]}"
status=0
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null || status=$?
if [ "$status" -ne 0 ]; then
  echo "install-test-tools: apt-get install ${packages[*]} failed (exit $status)" >&2
  exit "$status"
fi
for tool in "${missing[@]}"; do
  have "$tool" || { echo "install-test-tools: $tool still not found after the install" >&2; exit 1; }
done
echo "install-test-tools: installed ${packages[*]}"
