#!/usr/bin/env bash
# Readiness probe: is MODEL loaded (default) or present on this server?
#
# Usage: model-ready.sh MODEL [loaded|present]
#   loaded   the NAME column of `ollama ps` equals MODEL exactly (after adding
#            `:latest` when there is no tag), so phi:latest never satisfies phi3
#   present  `ollama show MODEL` succeeds
# Pair "loaded" with OLLAMA_KEEP_ALIVE=-1 and a preload: an idle model unloads, and a
# NotReady pod gets no traffic that would load it again.
#
# Environment:
#   OLLAMA_HOST                 the server to ask
#   OLLAMA_CLI_TIMEOUT_SECONDS  bound for the one CLI call (default 10); keep the
#                               probe's timeoutSeconds above it
# Exit codes: 0 ready, 1 not ready (one line says why), 2 usage error.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage="usage: model-ready.sh MODEL [loaded|present]"
(($# >= 1 && $# <= 2)) || die "$usage" 2
[[ $1 != -* ]] || die "$usage" 2
model=$(normalize_model "$1") || die "invalid model name '$1'; $usage" 2
mode=${2:-loaded}

not_ready() {
  log "not ready: $*"
  exit 1
}

status=0
case $mode in
  loaded)
    model_is_loaded "$model" || status=$?
    case $status in
      0) log "ready: model $model is loaded" ;;
      1) not_ready "model $model is not loaded" ;;
      *) not_ready "cannot list the loaded models: $CLI_ERROR" ;;
    esac
    ;;
  present)
    model_is_present "$model" || status=$?
    case $status in
      0) log "ready: model $model is present" ;;
      1) not_ready "model $model is not present" ;;
      *) not_ready "cannot check model $model: $CLI_ERROR" ;;
    esac
    ;;
  *) die "unknown mode '$mode'; $usage" 2 ;;
esac
