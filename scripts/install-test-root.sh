#!/usr/bin/env bash
# Install the test root: a minimal Debian sid tree holding nginx with its njs module and promtool, the
# versions closest to what the library pins (idempotent).
#
#   nginx + njs  the auth proxy's image is nginx-unprivileged 1.30.5-alpine, which ships njs 1.0.x; Debian
#                stable's nginx is 1.22 with njs 0.7.9 (no js_shared_dict_zone, no QuickJS), so the proxy's
#                configuration is tested with sid's nginx 1.30 and njs 1.0 instead.
#   promtool     the alert rules and dashboard queries are checked with `promtool test rules` and the
#                metrics page with `promtool check metrics` (Prometheus 3).
#
# The tree is made with debootstrap from deb.debian.org (Debian's own archive, the one package source this
# machine reaches) into $OLLAMA_CONSTRUCTS_TEST_ROOT (default /var/cache/ollama-constructs/test-root), outside
# the repository so that every clone and worktree shares it. Besides the tree it writes:
#   bin/nginx     runs the tree's nginx on this machine through the tree's own dynamic loader and libraries
#                 (no chroot, any user), with the prefix set so that `load_module modules/...` finds the
#                 tree's njs; it execs, so the nginx master keeps the wrapper's pid and a supervisor can
#                 signal it.
#   bin/promtool  the tree's promtool, run directly (it needs nothing but libc).
#   VERSIONS      what was installed (`nginx -v`, njs, promtool), for the test report.
# sid moves: a tree older than OLLAMA_CONSTRUCTS_TEST_ROOT_MAX_AGE_DAYS (default 30) is rebuilt, and the
# tests check the versions they need (nginx 1.30 or later, njs 1.0 or later), not exact ones.
#
# Usage: scripts/install-test-root.sh
set -euo pipefail

root_dir=${OLLAMA_CONSTRUCTS_TEST_ROOT:-/var/cache/ollama-constructs/test-root}
tree="$root_dir/sid"
max_age_days=${OLLAMA_CONSTRUCTS_TEST_ROOT_MAX_AGE_DAYS:-30}
mirror=${OLLAMA_CONSTRUCTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=nginx,libnginx-mod-http-js,promtool

say() { echo "install-test-root: $*"; }

tree_complete() {
  [ -x "$tree/usr/sbin/nginx" ] && [ -f "$tree/usr/lib/nginx/modules/ngx_http_js_module.so" ] &&
    [ -x "$tree/usr/bin/promtool" ] && [ -x "$tree/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ]
}

complete() {
  tree_complete && [ -x "$root_dir/bin/nginx" ] && [ -x "$root_dir/bin/promtool" ] &&
    [ -L "$root_dir/loader/nginx" ] && [ -f "$root_dir/VERSIONS" ]
}

fresh() {  # the tree was made less than max_age_days ago
  [ -n "$(find "$tree/.made" -mtime "-$max_age_days" 2>/dev/null)" ]
}

if complete && fresh; then
  say "up to date in $root_dir ($(tr '\n' ' ' <"$root_dir/VERSIONS"))"
  exit 0
fi
if ! { tree_complete && fresh; }; then
  if [ "$(id -u)" -ne 0 ]; then
    say "building the test root needs root (debootstrap); run: sudo $0" >&2
    exit 1
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "apt-get install debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
  fi

  mkdir -p "$root_dir"
  work="$root_dir/sid.new.$$"
  trap 'rm -rf "$work"' EXIT
  say "debootstrap sid ($packages) into $work"
  # A policy-rc.d inside the tree keeps the nginx package from starting a server during its installation.
  mkdir -p "$work/usr/sbin"
  printf '#!/bin/sh\nexit 101\n' >"$work/usr/sbin/policy-rc.d"
  chmod 0755 "$work/usr/sbin/policy-rc.d"
  debootstrap --variant=minbase --include="$packages" sid "$work" "$mirror" >"$root_dir/debootstrap.log" 2>&1 || {
    say "debootstrap failed; the last lines of $root_dir/debootstrap.log:" >&2
    tail -n 20 "$root_dir/debootstrap.log" >&2
    exit 1
  }
  rm -rf "$work/var/cache/apt/archives"/*.deb "$work/var/lib/apt/lists"/* 2>/dev/null || true
  rm -rf "$tree"
  mv "$work" "$tree"
  trap - EXIT
  touch "$tree/.made"
fi

mkdir -p "$root_dir/bin" "$root_dir/loader"
# The tree's own dynamic loader runs its nginx on this machine with the tree's libraries, as any user (the
# tests run nginx unprivileged). The loader is reached through a link named `nginx`, so that the process is
# called nginx (its comm) as in the image; `-p` makes relative paths resolve as in the image, whose prefix
# /etc/nginx holds `modules` (a link to the modules): `load_module modules/ngx_http_js_module.so` loads the
# tree's njs module here and the image's there.
ln -sfn "$tree/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$root_dir/loader/nginx"
cat >"$root_dir/bin/nginx" <<EOF
#!/bin/sh
# nginx of the test root ($tree), written by scripts/install-test-root.sh: the tree's nginx run by the
# tree's loader with the tree's libraries, prefix $tree/usr/share/nginx (whose modules/ are the modules).
exec "$root_dir/loader/nginx" --library-path "$tree/usr/lib/x86_64-linux-gnu" --argv0 nginx \\
  "$tree/usr/sbin/nginx" -p "$tree/usr/share/nginx/" "\$@"
EOF
chmod 0755 "$root_dir/bin/nginx"
ln -sf "$tree/usr/bin/promtool" "$root_dir/bin/promtool"

{
  "$root_dir/bin/nginx" -v 2>&1
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's format, not the shell's
  printf 'njs %s\n' "$(dpkg-query --admindir="$tree/var/lib/dpkg" -W -f '${Version}' libnginx-mod-http-js)"
  "$root_dir/bin/promtool" --version 2>&1 | head -n 1
} >"$root_dir/VERSIONS"
say "installed in $root_dir: $(tr '\n' ' ' <"$root_dir/VERSIONS")"
