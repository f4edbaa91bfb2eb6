#!/usr/bin/env bash
# Init container: make sure every configured model is on the model volume.
#
# The ollama CLI never writes the model store itself, so this starts a temporary
# `ollama serve`, waits for it, pulls what is missing (with bounded retries), verifies
# each model with `ollama show`, and stops the server again (also on any failure).
# Models already on the volume are not pulled again unless OLLAMA_PULL_REFRESH=1, so a
# restart neither drifts to a re-published tag nor depends on the registry.
#
# Environment:
#   OLLAMA_PULL_MODELS                        model refs separated by white space (required)
#   OLLAMA_HOST, OLLAMA_MODELS                for the temporary server and the CLI
#   OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS  wait for the server to answer (default 120)
#   OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS   wait after SIGTERM before SIGKILL (default 30)
#   OLLAMA_PULL_ATTEMPTS                      pull attempts per model (default 3)
#   OLLAMA_PULL_RETRY_DELAY_SECONDS           first retry delay, doubled each time, max 60 (default 5)
#   OLLAMA_PULL_TIMEOUT_SECONDS               bound for one pull attempt, 0 = none (default 0)
#   OLLAMA_PULL_REFRESH                       1: also pull models already present (default 0)
#   OLLAMA_PULL_INSECURE                      1: pull with --insecure, i.e. plain HTTP (default 0)
#   OLLAMA_CLI_TIMEOUT_SECONDS                bound for short CLI calls (default 10)
# Exit codes: 0 all models present, 1 a model or the server failed, 2 bad configuration.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RETRY_DELAY_CAP=60

START_TIMEOUT=${OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS:-120}
STOP_TIMEOUT=${OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS:-30}
ATTEMPTS=${OLLAMA_PULL_ATTEMPTS:-3}
RETRY_DELAY=${OLLAMA_PULL_RETRY_DELAY_SECONDS:-5}
PULL_TIMEOUT=${OLLAMA_PULL_TIMEOUT_SECONDS:-0}
require_uint OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS "$START_TIMEOUT"
require_uint OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS "$STOP_TIMEOUT"
require_uint OLLAMA_PULL_ATTEMPTS "$ATTEMPTS"
require_uint OLLAMA_PULL_RETRY_DELAY_SECONDS "$RETRY_DELAY"
require_uint OLLAMA_PULL_TIMEOUT_SECONDS "$PULL_TIMEOUT"
((ATTEMPTS >= 1)) || die "OLLAMA_PULL_ATTEMPTS must be at least 1" 2
REFRESH=0
if flag_enabled OLLAMA_PULL_REFRESH; then REFRESH=1; fi
INSECURE=0
if flag_enabled OLLAMA_PULL_INSECURE; then INSECURE=1; fi

SERVER_PID=""
PULL_ATTEMPTS_MADE=0

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
    sleep 0.2 # poll interval
  done
  wait "$pid" 2>/dev/null || status=$?
  log "temporary ollama server stopped (exit status $status)"
}

# is_permanent_error TEXT: errors that retrying cannot fix.
is_permanent_error() {
  [[ $1 == *"file does not exist"* || $1 == *"invalid model name"* || $1 == *"requires a newer version"* ]]
}

# pull_model MODEL: pull with bounded retries and backoff. On failure CLI_ERROR
# holds the last error and PULL_ATTEMPTS_MADE the number of attempts.
pull_model() {
  local model=$1 attempt=1 delay=$RETRY_DELAY
  local -a args=(pull)
  if ((INSECURE)); then
    args+=(--insecure)
  fi
  args+=("$model")
  while :; do
    PULL_ATTEMPTS_MADE=$attempt
    log "pulling $model (attempt $attempt of $ATTEMPTS)"
    if run_cli "$PULL_TIMEOUT" "${args[@]}"; then
      log "pulled $model"
      return 0
    fi
    log "attempt $attempt of $ATTEMPTS to pull $model failed: $CLI_ERROR"
    if is_permanent_error "$CLI_ERROR"; then
      log "not retrying: this error is permanent"
      return 1
    fi
    ((attempt < ATTEMPTS)) || return 1
    log "retrying in ${delay}s"
    sleep "$delay"
    delay=$(next_retry_delay "$delay" "$RETRY_DELAY_CAP")
    attempt=$((attempt + 1))
  done
}

# ensure_model MODEL: MODEL (normalized) is on the volume afterwards, or exit 1.
ensure_model() {
  local model=$1 present=0 id
  model_is_present "$model" || present=$?
  if ((present == 0 && !REFRESH)); then
    log "$model is present on the volume, not pulling"
  elif ((present == 0)); then
    log "$model is present on the volume; OLLAMA_PULL_REFRESH=1, pulling any update"
    if ! pull_model "$model"; then
      warn "could not refresh $model ($CLI_ERROR); keeping the copy on the volume"
    fi
  else
    if ((present == 2)); then
      log "could not check whether $model is present ($CLI_ERROR); pulling it"
    fi
    pull_model "$model" ||
      die "failed to pull $model after $PULL_ATTEMPTS_MADE attempt(s); last error from ollama: $CLI_ERROR"
  fi
  model_is_present "$model" || die "model $model is not present after pull (ollama show: $CLI_ERROR)"
  id=$(model_id "$model")
  log "$model is ready${id:+ (id $id)}"
}

main() {
  local -a refs models=()
  local ref model
  read -r -d '' -a refs <<<"${OLLAMA_PULL_MODELS:-}" || true
  ((${#refs[@]} > 0)) || die "no models to pull: set OLLAMA_PULL_MODELS to one or more model names" 2
  for ref in "${refs[@]}"; do
    [[ $ref != -* ]] || die "invalid model name '$ref' in OLLAMA_PULL_MODELS" 2
    model=$(normalize_model "$ref") || die "invalid model name '$ref' in OLLAMA_PULL_MODELS" 2
    if [[ " ${models[*]} " == *" $model "* ]]; then
      log "$ref is listed more than once; pulling it once"
    else
      models+=("$model")
    fi
  done
  log "models: ${models[*]}"

  trap 'stop_server || true' EXIT
  trap 'log "received SIGTERM"; exit 143' TERM
  trap 'log "received SIGINT"; exit 130' INT
  start_server
  wait_for_server "$START_TIMEOUT" "$SERVER_PID"
  for model in "${models[@]}"; do
    ensure_model "$model"
  done
  stop_server
  log "all ${#models[@]} model(s) are on the volume"
}

main "$@"
