#!/usr/bin/env bash
# preStop hook of the ollama container: let the answers in flight finish before Ollama stops.
#
# Usage: drain.sh PORT
#
# On SIGTERM Ollama closes every open connection at once (server/routes.go Serve calls
# srvr.Close, not Shutdown), so a rollout or a node drain would cut the answers being
# streamed. The kubelet runs this hook first and sends SIGTERM only when it has ended:
#   1. wait OLLAMA_DRAIN_DELAY_SECONDS. The pod is already marked terminating in its
#      EndpointSlices; the delay lets kube-proxy, the Gateway and other endpoint watchers
#      stop sending it new connections;
#   2. then wait until no client connection to PORT is left, at most
#      OLLAMA_DRAIN_TIMEOUT_SECONDS: the established TCP connections of the pod's network
#      namespace (/proc/net/tcp and /proc/net/tcp6) whose local port is PORT and whose peer
#      is not a loopback address (the pod's own sidecars talk to 127.0.0.1).
# An idle keep-alive connection counts as open, so a caller that keeps one holds the drain
# until it closes it or the bound passes.
#
# The kubelet keeps a hook's output only when the hook fails, so log lines also go to
# OLLAMA_DRAIN_LOG, best effort (default /proc/1/fd/1: the container's log).
#
# Environment:
#   OLLAMA_DRAIN_DELAY_SECONDS    wait for the endpoints first (default 5)
#   OLLAMA_DRAIN_TIMEOUT_SECONDS  the most to wait for the connections to end (default 600)
#   OLLAMA_DRAIN_POLL_SECONDS     pause between looks at the connections (default 1)
#   OLLAMA_DRAIN_LOG              copy of the log lines (default /proc/1/fd/1; empty: none)
# Exit codes: 0 (also when the bound passed: a failing preStop would change nothing but an
# event), 2 usage error.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log_target=${OLLAMA_DRAIN_LOG-/proc/1/fd/1}
if [[ -n $log_target && -w $log_target ]]; then
  LOG_COPY=$log_target
fi

usage="usage: drain.sh PORT"
if (($# != 1)) || [[ ! $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then
  die "$usage" 2
fi
PORT=$1
DELAY=${OLLAMA_DRAIN_DELAY_SECONDS:-5}
TIMEOUT=${OLLAMA_DRAIN_TIMEOUT_SECONDS:-600}
POLL=${OLLAMA_DRAIN_POLL_SECONDS:-1}
require_seconds OLLAMA_DRAIN_DELAY_SECONDS "$DELAY"
require_uint OLLAMA_DRAIN_TIMEOUT_SECONDS "$TIMEOUT"
require_seconds OLLAMA_DRAIN_POLL_SECONDS "$POLL"
printf -v PORT_HEX '%04X' "$PORT"

# is_loopback HEX: whether an address of /proc/net/tcp{,6} (hex, as the kernel prints it:
# 32-bit words in host byte order) is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
is_loopback() {
  case ${#1} in
    8) [[ ${1:6:2} == 7F ]] ;;
    32) [[ $1 == 00000000000000000000000001000000 || ($1 == 0000000000000000FFFF0000* && ${1:30:2} == 7F) ]] ;;
    *) return 1 ;;
  esac
}

# open_connections: established connections to PORT from peers that are not loopback.
open_connections() {
  local file _sl here remote st _rest count=0
  for file in /proc/net/tcp /proc/net/tcp6; do
    [[ -r $file ]] || continue
    while read -r _sl here remote st _rest; do
      [[ $st == 01 && ${here##*:} == "$PORT_HEX" ]] || continue
      is_loopback "${remote%:*}" && continue
      count=$((count + 1))
    done <"$file"
  done
  printf '%s\n' "$count"
}

main() {
  local start=$SECONDS deadline count last_report=-1
  trap 'kill_child' EXIT
  log "stopping: waiting ${DELAY}s for the endpoints to drop this pod, then up to ${TIMEOUT}s for the answers in flight on port $PORT"
  pause "$DELAY"
  deadline=$((SECONDS + TIMEOUT))
  while :; do
    count=$(open_connections)
    if ((count == 0)); then
      log "no client connection left on port $PORT after $((SECONDS - start))s; the server may stop"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "WARNING: $count client connection(s) still open on port $PORT after ${TIMEOUT}s; the server stops now and cuts them"
      return 0
    fi
    if ((last_report < 0 || SECONDS - last_report >= 10)); then
      log "$count client connection(s) open on port $PORT; waiting (at most $((deadline - SECONDS))s more)"
      last_report=$SECONDS
    fi
    pause "$POLL" # poll interval of the connection table
  done
}

main "$@"
