#!/usr/bin/env bash
# postStart hook: load MODEL into the server of this container and keep it loaded.
#
# Usage: model-preload.sh MODEL
# Waits for the server (postStart runs alongside the entrypoint), then runs
# `ollama run --keepalive -1m MODEL ""`, which loads the model with an infinite
# keep-alive (and pulls it first if it is missing). Embedding-only models reject an
# empty generate with `"x" does not support generate`; for them one embedding of the
# word "preload" is computed instead, which loads them too. Finally `ollama ps` must
# list the model.
#
# A failing postStart hook kills the container, and its output is not in the
# container log, so log lines are also copied to the main process's stdout.
#
# Environment:
#   OLLAMA_HOST                     the server to load into
#   OLLAMA_PRELOAD_TIMEOUT_SECONDS  deadline for waiting and loading together (default 600)
#   OLLAMA_PRELOAD_LOG              where log lines are also copied when it is writable
#                                   (default /proc/1/fd/1; empty: no copy)
#   OLLAMA_CLI_TIMEOUT_SECONDS      bound for short CLI calls (default 10)
# Exit codes: 0 loaded, 1 not loaded, 2 usage error.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log_target=${OLLAMA_PRELOAD_LOG-/proc/1/fd/1}
if [[ -n $log_target && -w $log_target ]]; then
  LOG_COPY=$log_target
fi

usage="usage: model-preload.sh MODEL"
(($# == 1)) || die "$usage" 2
[[ $1 != -* ]] || die "$usage" 2
model=$(normalize_model "$1") || die "invalid model name '$1'; $usage" 2
timeout_seconds=${OLLAMA_PRELOAD_TIMEOUT_SECONDS:-600}
require_uint OLLAMA_PRELOAD_TIMEOUT_SECONDS "$timeout_seconds"
deadline=$((SECONDS + timeout_seconds))

# load PROMPT: `ollama run` with an infinite keep-alive, bounded by the time left.
load() {
  local remaining=$((deadline - SECONDS))
  ((remaining > 0)) || die "no time left to load $model within OLLAMA_PRELOAD_TIMEOUT_SECONDS=${timeout_seconds}s"
  run_cli "$remaining" run --keepalive -1m "$model" "$1"
}

wait_for_server "$timeout_seconds"
log "loading $model with keep-alive forever"
if ! load ""; then
  if [[ $CLI_ERROR == *"does not support generate"* ]]; then
    log "$model is an embedding model; loading it by computing one embedding"
    load "preload" || die "failed to load embedding model $model: $CLI_ERROR"
  else
    die "failed to load $model: $CLI_ERROR"
  fi
fi

status=0
model_is_loaded "$model" || status=$?
case $status in
  0) log "$model is loaded" ;;
  1) die "$model was loaded but ollama ps does not list it (was it unloaded to make room? check OLLAMA_MAX_LOADED_MODELS and memory)" ;;
  *) die "cannot confirm that $model is loaded: $CLI_ERROR" ;;
esac
