#!/usr/bin/env bash
# Init container: make sure every configured model is on the model volume.
#
# The ollama CLI never writes the model store itself, so this starts a temporary
# `ollama serve`, waits for it, works through the model list, and stops the server
# again (also on any failure). For each entry, in order:
#   pull <ref> [digest=sha256:<hex>] [alias=<name:tag>] [insecure]
#     - pinned (digest=): when the manifest on the volume has that digest the registry
#       is not contacted at all; otherwise pull, then hash the manifest file: on a
#       mismatch remove the model (`ollama rm`) and fail naming both digests;
#     - not pinned: a model on the volume is used as is (no pull, so a restart neither
#       drifts to a re-published tag nor needs the registry) unless OLLAMA_PULL_REFRESH=1;
#     - pulls have bounded retries with backoff; `insecure` pulls over plain HTTP;
#     - verify with `ollama show`, then `ollama cp <ref> <alias>` when the alias is
#       missing or differs from <ref>.
#   create <name:tag> modelfile=<file>
#     - `ollama create <name> -f <spec dir>/<file>` every time (cheap when the layers
#       exist), then verify with `ollama show`.
# The list is $OLLAMA_MODELS_SPEC_DIR/models.list (grammar in lib.sh); without it,
# every word of OLLAMA_PULL_MODELS is a plain `pull <ref>` entry.
#
# Environment:
#   OLLAMA_MODELS_SPEC_DIR                    directory with models.list and the Modelfiles
#   OLLAMA_PULL_MODELS                        or: model refs separated by white space
#   OLLAMA_HOST, OLLAMA_MODELS, HOME          for the temporary server and the CLI
#   OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS  wait for the server to answer (default 120)
#   OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS   wait after SIGTERM before SIGKILL (default 30)
#   OLLAMA_PULL_ATTEMPTS                      pull attempts per model (default 3)
#   OLLAMA_PULL_RETRY_DELAY_SECONDS           first retry delay, doubled each time, max 60 (default 5)
#   OLLAMA_PULL_TIMEOUT_SECONDS               bound for one pull attempt or create, 0 = none (default 0)
#   OLLAMA_PULL_REFRESH                       1: also pull unpinned models already present (default 0)
#   OLLAMA_PULL_INSECURE                      1: pull every model with --insecure (default 0)
#   OLLAMA_PULL_LOCK                          lock directory on a shared (ReadWriteMany) model
#                                             volume, held for the whole run (default: none)
#   OLLAMA_PULL_LOCK_TIMEOUT_SECONDS          wait at most this long for the lock; a lock not
#                                             refreshed for longer is taken over (default 1800)
#   OLLAMA_CLI_TIMEOUT_SECONDS                bound for short CLI calls (default 10)
#   OLLAMA_POLL_INTERVAL_SECONDS              poll interval for the server and the lock (default 1)
# Exit codes: 0 all models present, 1 a model, the server or the lock failed,
# 2 bad configuration (an invalid models.list line is named by its line number).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT=${OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS:-120}
STOP_TIMEOUT=${OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS:-30}
LOCK=${OLLAMA_PULL_LOCK:-}
LOCK_TIMEOUT=${OLLAMA_PULL_LOCK_TIMEOUT_SECONDS:-1800}
require_uint OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS "$START_TIMEOUT"
require_uint OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS "$STOP_TIMEOUT"
require_uint OLLAMA_PULL_LOCK_TIMEOUT_SECONDS "$LOCK_TIMEOUT"
load_pull_settings

SERVER_PID=""

# prefix_lines PREFIX: copy stdin to stdout with PREFIX on every line.
prefix_lines() {
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s%s\n' "$1" "$line"
  done
}

start_server() {
  log "starting a temporary ollama server on ${OLLAMA_HOST:-127.0.0.1:11434} (models in ${OLLAMA_MODELS:-\$HOME/.ollama/models})"
  ollama serve > >(prefix_lines "[$LOG_TAG] [ollama serve] ") 2>&1 &
  SERVER_PID=$!
  log "temporary ollama server started (pid $SERVER_PID)"
}

# stop_server: SIGTERM the temporary server, SIGKILL it after STOP_TIMEOUT, reap it.
# Runs on every exit through the EXIT trap; does nothing when no server runs.
stop_server() {
  local pid=$SERVER_PID deadline status=0
  [[ -n $pid ]] || return 0
  SERVER_PID=""
  if ! kill -TERM "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || status=$?
    log "the temporary ollama server had already exited (exit status $status)"
    return 0
  fi
  log "stopping the temporary ollama server (pid $pid)"
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      warn "the temporary ollama server did not exit within ${STOP_TIMEOUT}s of SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1 # poll interval
  done
  wait "$pid" 2>/dev/null || status=$?
  log "temporary ollama server stopped (exit status $status)"
}

cleanup() {
  kill_child
  stop_server || true
  lock_release || true
}

# load_entries: the model list, from OLLAMA_MODELS_SPEC_DIR or OLLAMA_PULL_MODELS.
load_entries() {
  local dir=${OLLAMA_MODELS_SPEC_DIR:-} list=${OLLAMA_PULL_MODELS:-}
  if [[ -n $dir && -n ${list//[[:space:]]/} ]]; then
    die "set either OLLAMA_MODELS_SPEC_DIR or OLLAMA_PULL_MODELS, not both" 2
  fi
  if [[ -z $dir ]]; then
    spec_from_words OLLAMA_PULL_MODELS "$list"
    ((${#ENTRY_KIND[@]} > 0)) || die "no models to pull: set OLLAMA_PULL_MODELS to one or more model names" 2
    return 0
  fi
  SPEC_STRICT=1
  spec_load "$dir" || die "cannot read $dir/models.list (OLLAMA_MODELS_SPEC_DIR)" 2
  ((SPEC_ERRORS == 0)) || die "$dir/models.list has $SPEC_ERRORS invalid line(s)" 2
  ((${#ENTRY_KIND[@]} > 0)) || die "$dir/models.list lists no models" 2
}

main() {
  local i
  load_entries
  log "models: ${ENTRY_REF[*]}"

  trap cleanup EXIT
  trap 'log "received SIGTERM"; exit 143' TERM
  trap 'log "received SIGINT"; exit 130' INT
  if [[ -n $LOCK ]]; then
    lock_acquire "$LOCK" "$LOCK_TIMEOUT" 1
  fi
  start_server
  wait_for_server "$START_TIMEOUT" "$SERVER_PID"
  for i in "${!ENTRY_KIND[@]}"; do
    ensure_entry "$i" || die "$ENTRY_ERROR"
  done
  stop_server
  lock_release
  log "all ${#ENTRY_KIND[@]} model(s) are on the volume"
}

main "$@"
