#!/usr/bin/env bash
# Sidecar model-keeper: warm the primary model up once, then keep it loaded.
#
# Usage: model-keeper.sh MODEL
#
# Warm-up, in this container instead of a lifecycle hook, so that nothing holds the
# ollama container back and every step is in `kubectl logs -c model-keeper`:
#   wait for the server (`ollama list`) and for MODEL on the model volume, learn whether
#   it is an embedding model (`ollama show`), load it with keep-alive forever, then write
#   OLLAMA_WARM_MARKER, which the readiness probe waits for. A failed load is retried with
#   backoff until OLLAMA_WARMUP_TIMEOUT_SECONDS have passed since the start; then the
#   keeper exits 1 with the last error as its last log line (its termination message).
#
# Keeping it loaded, every OLLAMA_KEEPER_INTERVAL_SECONDS (Ollama unloads a model when a
# client asks with keep_alive 0, when another model needs its place, and when its runner
# dies; server/routes.go GenerateHandler and ChatHandler, server/sched.go):
#   - `ollama ps`, bounded by OLLAMA_CLI_TIMEOUT_SECONDS. It blocks while any model loads,
#     so no answer decides nothing; the check runs again after the interval.
#   - MODEL's weights are not among the loaded runners: load it again. Runners are matched
#     by the weights their ID names on disk, not by name, because ps lists a runner under
#     the first name that loaded it (an alias, a model created FROM MODEL).
#   - loaded with the runner options of the keeper's own load: load it anyway. That is
#     answered at once while its runner is healthy; when its llama-server has died, ps
#     still lists it and only the next request for it (needsReload pings it) starts it
#     again, so this request is that one. It also sets a keep-alive that a request
#     changed back to forever.
#   - loaded with other runner options (a client asked for another num_ctx): left as it
#     is, so that the keeper and that client do not take turns reloading it.
# A load is `ollama run --keepalive -1m MODEL ""` (an empty generate only loads), or for an
# embedding model `ollama run --keepalive -1m MODEL "warm-up"`: the CLI refuses an empty
# prompt for embedding models before any request (cmd/cmd.go RunHandler), and one
# embedding is what loads them. Each load is bounded by OLLAMA_LOAD_TIMEOUT_SECONDS. The
# keeper never pulls: `ollama run` would pull a missing model, so while MODEL is not on the
# volume nothing is run and the wait is logged.
#
# Environment:
#   OLLAMA_HOST, OLLAMA_MODELS, HOME   the pod's server and its model store (read only)
#   OLLAMA_WARM_MARKER                 the file written after the first warm-up (required)
#   OLLAMA_WARMUP_TIMEOUT_SECONDS      deadline of the first warm-up, from the start of this
#                                      script; 0 = none (default 600)
#   OLLAMA_LOAD_TIMEOUT_SECONDS        bound of one load (default: the warm-up timeout, or 600)
#   OLLAMA_KEEPER_INTERVAL_SECONDS     pause between checks (default 30)
#   OLLAMA_KEEPER_ONESHOT              1: the warm-up, one check, then exit (for tests; default 0)
#   OLLAMA_PULL_RETRY_DELAY_SECONDS    first retry delay of a failed warm-up, doubled after each
#                                      failure, at most 60 (default 5; 0 means 1)
#   OLLAMA_CLI_TIMEOUT_SECONDS         bound of ps, show and list (default 10)
#   OLLAMA_POLL_INTERVAL_SECONDS       poll interval while the server is down (default 1)
# Exit codes: 0 on SIGTERM/SIGINT (and with ONESHOT), 1 when the first warm-up failed by its
# deadline, 2 bad configuration.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage="usage: model-keeper.sh MODEL"
(($# == 1)) || die "$usage" 2
[[ $1 != -* ]] || die "$usage" 2
model_name_parts "$1" || die "invalid model name '$1'; $usage" 2
MODEL=$(normalize_model "$1")
MARKER=${OLLAMA_WARM_MARKER:-}
[[ -n $MARKER ]] || die "OLLAMA_WARM_MARKER must name the file that marks the first warm-up" 2
WARMUP_TIMEOUT=${OLLAMA_WARMUP_TIMEOUT_SECONDS:-600}
require_uint OLLAMA_WARMUP_TIMEOUT_SECONDS "$WARMUP_TIMEOUT"
LOAD_TIMEOUT=${OLLAMA_LOAD_TIMEOUT_SECONDS:-$((WARMUP_TIMEOUT > 0 ? WARMUP_TIMEOUT : 600))}
require_uint OLLAMA_LOAD_TIMEOUT_SECONDS "$LOAD_TIMEOUT"
((LOAD_TIMEOUT > 0)) || die "OLLAMA_LOAD_TIMEOUT_SECONDS must be at least 1" 2
INTERVAL=${OLLAMA_KEEPER_INTERVAL_SECONDS:-30}
require_seconds OLLAMA_KEEPER_INTERVAL_SECONDS "$INTERVAL"
[[ $INTERVAL =~ [1-9] ]] || die "OLLAMA_KEEPER_INTERVAL_SECONDS must be more than 0" 2
RETRY_DELAY=${OLLAMA_PULL_RETRY_DELAY_SECONDS:-5}
require_uint OLLAMA_PULL_RETRY_DELAY_SECONDS "$RETRY_DELAY"
((RETRY_DELAY > 0)) || RETRY_DELAY=1
ONESHOT=0
if flag_enabled OLLAMA_KEEPER_ONESHOT; then ONESHOT=1; fi

EMBEDDING=0     # 1 when MODEL is an embedding model
BASELINE=""     # the CONTEXT ps shows after the keeper's own load: the runner options it asks for
RELOADS=0       # loads after the warm-up because MODEL was not loaded
STATE=""        # the last state logged by report, so that a steady state is logged once
LOAD_SECONDS=0  # how long the last load took
SLOW_ANSWER_SECONDS=5 # a load of a healthy loaded runner answers well within this

# report KEY MESSAGE: log MESSAGE when the state KEY differs from the last one reported.
report() {
  if [[ $1 != "$STATE" ]]; then
    log "$2"
    STATE=$1
  fi
}

# load_model: load MODEL with keep-alive forever, bounded by LOAD_TIMEOUT. Sets LOAD_SECONDS.
# An embedding model not yet known as one is recognised by the CLI's own refusal of an
# empty prompt and loaded through an embedding instead.
load_model() {
  local started=$SECONDS prompt="" status=0
  if ((EMBEDDING)); then
    prompt="warm-up"
  fi
  run_cli "$LOAD_TIMEOUT" run --keepalive -1m "$MODEL" "$prompt" || status=$?
  if ((status != 0 && !EMBEDDING)) && [[ $CLI_ERROR == *"embedding models require input text"* ]]; then
    log "$MODEL is an embedding model: loading it by computing one embedding"
    EMBEDDING=1
    status=0
    run_cli "$LOAD_TIMEOUT" run --keepalive -1m "$MODEL" "warm-up" || status=$?
  fi
  LOAD_SECONDS=$((SECONDS - started))
  return "$status"
}

# learn_baseline: the CONTEXT of MODEL's runner right after the keeper loaded it.
learn_baseline() {
  local status=0
  model_is_loaded "$MODEL" || status=$?
  if ((status == 0)); then
    BASELINE=$LOADED_CONTEXT
  fi
}

# remaining: seconds left of the warm-up deadline (a large number without one).
remaining() {
  if ((WARMUP_TIMEOUT == 0)); then
    printf '%s\n' 999999999
  else
    printf '%s\n' "$((WARMUP_DEADLINE - SECONDS))"
  fi
}

# warm_up_failed MESSAGE: the deadline passed: the last log line says why (exit 1).
warm_up_failed() {
  die "the first warm-up of $MODEL did not finish within OLLAMA_WARMUP_TIMEOUT_SECONDS=${WARMUP_TIMEOUT}s: $1"
}

warm_up() {
  local delay=$RETRY_DELAY attempt=1 status left announced=0 weights
  log "warming up $MODEL: waiting for the server, then loading it with keep-alive forever"
  if ((WARMUP_TIMEOUT > 0)); then
    wait_for_server "$(remaining)"
  else
    wait_for_server 0
  fi
  while :; do
    left=$(remaining)
    if [[ -f $(manifest_path "$MODEL") ]]; then
      status=0
      model_is_embedding "$MODEL" || status=$?
      if ((status != 2)); then
        EMBEDDING=$((status == 0 ? 1 : 0))
        if ((EMBEDDING)); then
          log "$MODEL is an embedding model: loading it by computing one embedding"
        fi
        log "loading $MODEL (attempt $attempt)"
        if load_model; then
          break
        fi
      fi
      log "attempt $attempt to load $MODEL failed after ${LOAD_SECONDS}s: $CLI_ERROR"
      left=$(remaining)
      ((left > 0)) || warm_up_failed "$CLI_ERROR"
      delay=$((delay < left ? delay : left))
      log "retrying in ${delay}s"
      pause "$delay"
      delay=$(next_retry_delay "$delay" 60)
      attempt=$((attempt + 1))
    else
      ((left > 0)) || warm_up_failed "$MODEL is not on the model volume ($(manifest_path "$MODEL"))"
      if ((!announced)); then
        log "$MODEL is not on the model volume yet ($(manifest_path "$MODEL")); waiting for it"
        announced=1
      fi
      pause "$POLL_INTERVAL" # poll interval of the model store
    fi
  done
  weights=$(model_weights "$MODEL")
  learn_baseline
  printf '%s weights=%s warmed-after=%ss\n' "$MODEL" "${weights:-unknown}" "$SECONDS" >"$MARKER.tmp"
  mv -f "$MARKER.tmp" "$MARKER"
  log "first warm-up of $MODEL finished after ${SECONDS}s (load ${LOAD_SECONDS}s${BASELINE:+, num_ctx $BASELINE}); the pod can become Ready"
}

# check: one look at the loaded models; loads MODEL when it is not loaded (see the top).
check() {
  local status=0
  if [[ ! -f $(manifest_path "$MODEL") ]]; then
    report missing "$MODEL is not on the model volume; not loading it until it is back"
    return 0
  fi
  model_is_loaded "$MODEL" || status=$?
  case $status in
    3)
      report blocked "ollama ps did not answer within ${CLI_TIMEOUT}s: a model is loading; checking again in ${INTERVAL}s"
      ;;
    2)
      report error "cannot list the loaded models ($CLI_ERROR); checking again in ${INTERVAL}s"
      ;;
    1)
      RELOADS=$((RELOADS + 1))
      log "$MODEL is not loaded (loaded: ${LOADED_NAMES:-none}); loading it again (reload $RELOADS)"
      if load_model; then
        learn_baseline
        log "$MODEL is loaded again after ${LOAD_SECONDS}s"
        STATE=loaded
      else
        log "ERROR: could not load $MODEL after ${LOAD_SECONDS}s: $CLI_ERROR; trying again in ${INTERVAL}s"
        STATE=failed
      fi
      ;;
    0)
      if [[ -z $BASELINE ]]; then
        BASELINE=$LOADED_CONTEXT
      fi
      if [[ $LOADED_CONTEXT != "$BASELINE" ]]; then
        report "options $LOADED_CONTEXT" "$MODEL is loaded as $LOADED_NAME with num_ctx $LOADED_CONTEXT, not $BASELINE (a client's options); leaving it as it is"
        return 0
      fi
      if [[ $LOADED_UNTIL != Forever ]]; then
        log "a request changed the keep-alive of $MODEL (it would unload: $LOADED_UNTIL); setting it back to forever"
        STATE=keep-alive
      fi
      if ! load_model; then
        log "ERROR: could not load $MODEL after ${LOAD_SECONDS}s: $CLI_ERROR; trying again in ${INTERVAL}s"
        STATE=failed
      elif ((LOAD_SECONDS >= SLOW_ANSWER_SECONDS)); then
        log "$MODEL was listed as loaded but took ${LOAD_SECONDS}s to answer (a healthy runner answers at once): its runner had stopped and was started again"
        STATE=loaded
      else
        report loaded "$MODEL is loaded${LOADED_NAME:+ (listed as $LOADED_NAME)}; checking every ${INTERVAL}s"
      fi
      ;;
  esac
}

on_signal() {
  log "received $1; exiting"
  exit 0
}

main() {
  trap 'kill_child' EXIT
  trap 'on_signal SIGTERM' TERM
  trap 'on_signal SIGINT' INT
  WARMUP_DEADLINE=$((SECONDS + WARMUP_TIMEOUT))
  if [[ -s $MARKER ]]; then
    log "the first warm-up of $MODEL already finished in this pod ($MARKER); keeping it loaded"
  else
    warm_up
  fi
  while :; do
    if ((!ONESHOT)); then
      pause "$INTERVAL"
    fi
    check
    if ((ONESHOT)); then
      exit 0
    fi
  done
}

main "$@"
