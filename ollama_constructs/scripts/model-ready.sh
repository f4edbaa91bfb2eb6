#!/usr/bin/env bash
# Readiness probe of the ollama container: may this pod take traffic for MODEL?
#
# Usage: model-ready.sh MODEL [warm|present]
#   warm     the model-keeper finished the first warm-up of MODEL (its marker file
#            names MODEL), MODEL is on the model volume, and the server answers
#   present  MODEL is on the model volume and the server answers (no preload)
#
# Nothing here waits on the scheduler: GET /api/ps (`ollama ps`) blocks while any
# model loads (server/sched.go loadedModels waits on each runner's lock), so a probe
# asking it would fail for the whole length of a load. Whether MODEL is loaded at this
# moment is the model-keeper's business: it loads it again when it was unloaded, and a
# request that arrives meanwhile loads it by itself. The files are read first, then one
# `ollama -v` (GET /api/version) bounded by OLLAMA_CLI_TIMEOUT_SECONDS: the probe ends
# within that bound even when the server hangs.
#
# Environment:
#   OLLAMA_WARM_MARKER          the file the model-keeper writes after the first warm-up
#                               (required with warm)
#   OLLAMA_MODELS, HOME         the model store (MODEL's manifest is looked up there)
#   OLLAMA_HOST                 the server to ask
#   OLLAMA_CLI_TIMEOUT_SECONDS  bound for the one CLI call (default 10); keep the probe's
#                               timeoutSeconds above it
# Exit codes: 0 ready, 1 not ready (one line says why), 2 usage error.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage="usage: model-ready.sh MODEL [warm|present]"
(($# >= 1 && $# <= 2)) || die "$usage" 2
[[ $1 != -* ]] || die "$usage" 2
model_name_parts "$1" || die "invalid model name '$1'; $usage" 2
model=$(normalize_model "$1")
mode=${2:-warm}
[[ $mode == warm || $mode == present ]] || die "unknown mode '$mode'; $usage" 2

not_ready() {
  log "not ready: $*"
  exit 1
}

warmed=""
if [[ $mode == warm ]]; then
  marker=${OLLAMA_WARM_MARKER:-}
  [[ -n $marker ]] || die "OLLAMA_WARM_MARKER must name the model-keeper's marker file" 2
  { IFS= read -r warmed <"$marker"; } 2>/dev/null || true
  if [[ -z $warmed ]]; then
    not_ready "the first warm-up of $model has not finished (kubectl logs -c model-keeper)"
  fi
  same_model "${warmed%% *}" "$model" ||
    not_ready "the warm-up marker names ${warmed%% *}, not $model"
fi
path=$(manifest_path "$model")
[[ -f $path ]] || not_ready "model $model is not on the model volume ($path)"
server_answers || not_ready "$CLI_ERROR"
log "ready: model $model is on the volume${warmed:+, warmed up,} and the server answers"
