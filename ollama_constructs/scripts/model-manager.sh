#!/usr/bin/env bash
# Sidecar: keep the models of the pod's running server in line with models.list.
#
# Talks to the server of this pod (OLLAMA_HOST); it never runs a server itself. Every
# OLLAMA_MANAGER_INTERVAL_SECONDS it re-reads $OLLAMA_MODELS_SPEC_DIR/models.list (a
# ConfigMap mount, updated in place when the ConfigMap changes; grammar in lib.sh)
# and compares it with `ollama list` and the manifest files on the model volume:
#   pull entries    missing, pinned digest differs, alias missing or differs
#   create entries  missing, first pass of this process, Modelfile changed, or the
#                   FROM model was pulled again in this pass
# Each entry that is not in place is handled exactly as the init container does
# (lib.sh: pull with verification of the pinned digest, cp to the alias, create,
# verify with `ollama show`), one attempt per try. A failed entry is retried after
# OLLAMA_PULL_RETRY_DELAY_SECONDS, doubled after each failure up to
# OLLAMA_MANAGER_MAX_BACKOFF_SECONDS, without holding up the other entries; editing
# its line starts over. Invalid lines are logged and skipped.
# With OLLAMA_MANAGER_REMOVE_UNLISTED=1, models the server lists that are neither an
# entry's model, its alias, a created model nor the FROM model of one are removed
# (`ollama rm`) -- never while models.list is unreadable, empty or has invalid lines.
# OLLAMA_PULL_REFRESH does not apply: an unpinned model that is present is in place.
#
# Environment:
#   OLLAMA_MODELS_SPEC_DIR                 directory with models.list and the Modelfiles (required)
#   OLLAMA_HOST                            the pod's server (default 127.0.0.1:11434)
#   OLLAMA_MODELS, HOME                    the server's model store, mounted here too (read only
#                                          is enough): pinned digests are read from its manifests
#   OLLAMA_MANAGER_INTERVAL_SECONDS        pause between passes (default 30)
#   OLLAMA_MANAGER_MAX_BACKOFF_SECONDS     longest wait before retrying a failed entry (default 300)
#   OLLAMA_MANAGER_REMOVE_UNLISTED         1: remove unlisted models (default 0)
#   OLLAMA_MANAGER_SERVER_TIMEOUT_SECONDS  exit 1 when the server does not answer for this long,
#                                          0 = wait forever (default 0)
#   OLLAMA_MANAGER_ONESHOT                 1: one pass, then exit (for tests; default 0)
#   OLLAMA_PULL_RETRY_DELAY_SECONDS        first retry delay of a failed entry (default 5; 0 means 1)
#   OLLAMA_PULL_TIMEOUT_SECONDS            bound for one pull or create, 0 = none (default 0)
#   OLLAMA_PULL_INSECURE                   1: pull every model with --insecure (default 0)
#   OLLAMA_PULL_LOCK                       lock directory of a shared model volume (needs write
#                                          access): taken, without waiting, for a pass that
#                                          changes models; a held lock defers the pass (default: none)
#   OLLAMA_PULL_LOCK_TIMEOUT_SECONDS       a lock not refreshed for longer is stale (default 1800)
#   OLLAMA_CLI_TIMEOUT_SECONDS             bound for short CLI calls (default 10)
#   OLLAMA_POLL_INTERVAL_SECONDS           poll interval while the server is down (default 1)
# OLLAMA_PULL_ATTEMPTS is not used: each try is one attempt and the backoff spaces them.
# Exit codes: 0 on SIGTERM/SIGINT (and, with ONESHOT, when everything is in place),
# 1 with ONESHOT when something is not, or when the server timeout passes, 2 bad configuration.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SPEC=${OLLAMA_MODELS_SPEC_DIR:-}
[[ -n $SPEC ]] || die "OLLAMA_MODELS_SPEC_DIR must name the directory holding models.list" 2
INTERVAL=${OLLAMA_MANAGER_INTERVAL_SECONDS:-30}
MAX_BACKOFF=${OLLAMA_MANAGER_MAX_BACKOFF_SECONDS:-300}
SERVER_TIMEOUT=${OLLAMA_MANAGER_SERVER_TIMEOUT_SECONDS:-0}
LOCK=${OLLAMA_PULL_LOCK:-}
LOCK_TIMEOUT=${OLLAMA_PULL_LOCK_TIMEOUT_SECONDS:-1800}
require_seconds OLLAMA_MANAGER_INTERVAL_SECONDS "$INTERVAL"
[[ $INTERVAL =~ [1-9] ]] || die "OLLAMA_MANAGER_INTERVAL_SECONDS must be more than 0" 2
require_uint OLLAMA_MANAGER_MAX_BACKOFF_SECONDS "$MAX_BACKOFF"
((MAX_BACKOFF >= 1)) || die "OLLAMA_MANAGER_MAX_BACKOFF_SECONDS must be at least 1" 2
require_uint OLLAMA_MANAGER_SERVER_TIMEOUT_SECONDS "$SERVER_TIMEOUT"
require_uint OLLAMA_PULL_LOCK_TIMEOUT_SECONDS "$LOCK_TIMEOUT"
REMOVE_UNLISTED=0
if flag_enabled OLLAMA_MANAGER_REMOVE_UNLISTED; then REMOVE_UNLISTED=1; fi
ONESHOT=0
if flag_enabled OLLAMA_MANAGER_ONESHOT; then ONESHOT=1; fi
load_pull_settings
PULL_ATTEMPTS=1 # one attempt per try; the per-entry backoff spaces the tries
REFRESH=0
FIRST_DELAY=$((RETRY_DELAY > 0 ? RETRY_DELAY : 1))
SPEC_STRICT=0 # log and skip invalid lines

declare -A FAILURES=()   # entry key -> consecutive failures
declare -A NEXT_TRY=()   # entry key -> earliest next attempt (ms since the epoch)
declare -A CREATED=()    # created model -> sha256 of the Modelfile it was last built from
declare -A LISTED=()     # models the server listed at the start of the pass (lower case)
declare -A PULLED_NOW=() # models pulled (or copied) in this pass
LIST_HASH="" # sha256 of models.list as last read: problems with it are logged once
SERVER_NAMES=() # the NAME column of `ollama list` at the start of the pass
LOCKED=0
REASON=""
NOW_MS=0

now_ms() {
  local micros=${EPOCHREALTIME/[^0-9]/}
  NOW_MS=$((10#$micros / 1000))
}

# modelfile_base FILE: the FROM model of a Modelfile, normalized, or nothing (no FROM, or
# FROM a file). As parser/parser.go reads it: the command in any case, the value the rest
# of the line without surrounding blanks, and a value in double quotes unquoted.
modelfile_base() {
  local line command value
  [[ -r $1 ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    read -r command value <<<"$line" || true
    if [[ ${command,,} == from ]]; then
      value=${value%"${value##*[![:space:]]}"}
      if [[ $value == \"\"\"*\"\"\" && ${#value} -ge 6 ]]; then
        value=${value:3:${#value}-6}
      elif [[ $value == \"*\" && ${#value} -ge 2 ]]; then
        value=${value:1:${#value}-2}
      fi
      if model_name_parts "$value"; then
        normalize_model "$value"
      fi
      return 0
    fi
  done <"$1"
}

# file_hash FILE: sha256 of FILE, or "missing".
file_hash() {
  local hex _rest
  if [[ -r $1 ]] && read -r hex _rest < <(sha256sum "$1"); then
    printf '%s\n' "$hex"
  else
    printf 'missing\n'
  fi
}

# needs_work INDEX: 0 (with REASON) when the entry is not in place, 1 when it is.
needs_work() {
  local i=$1 ref=${ENTRY_REF[$1]} digest=${ENTRY_DIGEST[$1]} alias=${ENTRY_ALIAS[$1]} actual file base hash
  case ${ENTRY_KIND[$i]} in
    pull)
      if [[ -z ${LISTED[${ref,,}]:-} ]]; then
        REASON="the server does not have it"
      elif [[ -n $digest ]] && actual=$(manifest_digest "$ref") && [[ $actual != "$digest" ]]; then
        REASON="its digest is ${actual:-unknown (no manifest at $(manifest_path "$ref"))}, pinned $digest"
      elif [[ -n $alias && -z ${LISTED[${alias,,}]:-} ]]; then
        REASON="its alias $alias is missing"
      elif [[ -n $alias && $(manifest_digest "$alias") != "$(manifest_digest "$ref")" ]]; then
        REASON="its alias $alias is not a copy of it"
      else
        return 1
      fi
      ;;
    create)
      file="$SPEC/${ENTRY_MODELFILE[$i]}"
      hash=$(file_hash "$file")
      base=$(modelfile_base "$file")
      if [[ -z ${LISTED[${ref,,}]:-} ]]; then
        REASON="the server does not have it"
      elif [[ -z ${CREATED[$ref]:-} ]]; then
        REASON="not built by this manager yet"
      elif [[ ${CREATED[$ref]} != "$hash" ]]; then
        REASON="its Modelfile changed"
      elif [[ -n $base && -n ${PULLED_NOW[${base,,}]:-} ]]; then
        REASON="its FROM model $base was pulled again"
      else
        return 1
      fi
      ;;
  esac
  return 0
}

# entry_key INDEX: what backoff state is kept under; changes when the line or the
# Modelfile changes, so an edited entry is tried at once.
entry_key() {
  local key=${ENTRY_KEY[$1]}
  if [[ ${ENTRY_KIND[$1]} == create ]]; then
    key+=" $(file_hash "$SPEC/${ENTRY_MODELFILE[$1]}")"
  fi
  printf '%s\n' "$key"
}

# take_lock: hold OLLAMA_PULL_LOCK (if set) for the rest of the pass; 1 when it is busy.
take_lock() {
  [[ -n $LOCK ]] || return 0
  ((!LOCKED)) || return 0
  if lock_acquire "$LOCK" "$LOCK_TIMEOUT" 0; then
    LOCKED=1
    return 0
  fi
  log "the pull lock $LOCK is held by $(lock_holder "$LOCK"); trying again in the next pass"
  return 1
}

# record_failure KEY: back off the entry; sets DELAY.
record_failure() {
  local failures=$((${FAILURES[$1]:-0} + 1)) step=1
  FAILURES[$1]=$failures
  DELAY=$FIRST_DELAY
  while ((step < failures && DELAY < MAX_BACKOFF)); do
    DELAY=$((DELAY * 2))
    step=$((step + 1))
  done
  ((DELAY <= MAX_BACKOFF)) || DELAY=$MAX_BACKOFF
  now_ms
  NEXT_TRY[$1]=$((NOW_MS + DELAY * 1000))
}

# remove_unlisted: `ollama rm` what the server lists but models.list does not name.
remove_unlisted() {
  local name i base status=0
  local -A keep=()
  if ((SPEC_ERRORS > 0)); then
    ((SPEC_QUIET)) || log "not removing unlisted models while models.list has $SPEC_ERRORS invalid line(s)"
    return 1
  fi
  if ((${#ENTRY_KIND[@]} == 0)); then
    ((SPEC_QUIET)) || log "models.list lists no models; not removing any"
    return 0
  fi
  while IFS= read -r name; do
    keep[${name,,}]=1
  done < <(spec_names)
  for i in "${!ENTRY_KIND[@]}"; do
    if [[ ${ENTRY_KIND[$i]} == create ]]; then
      base=$(modelfile_base "$SPEC/${ENTRY_MODELFILE[$i]}")
      if [[ -n $base ]]; then
        keep[${base,,}]=1
      fi
    fi
  done
  while IFS= read -r name; do
    [[ -n $name && -z ${keep[${name,,}]:-} ]] || continue
    take_lock || return 1
    remove_model "$name" "not in models.list (OLLAMA_MANAGER_REMOVE_UNLISTED=1)" || status=1
  done < <(printf '%s\n' "${SERVER_NAMES[@]}")
  return "$status"
}

# reconcile: one pass. Returns 0 when everything is in place, 1 when not, 2 when the
# server did not answer.
reconcile() {
  local i key name hash status=0
  LISTED=() PULLED_NOW=() LOCKED=0
  hash=$(file_hash "$SPEC/models.list")
  SPEC_QUIET=$([[ $hash == "$LIST_HASH" ]] && echo 1 || echo 0)
  LIST_HASH=$hash
  if ! spec_load "$SPEC"; then
    ((SPEC_QUIET)) || log "cannot read $SPEC/models.list; changing nothing"
    return 1
  fi
  if ! run_cli "$CLI_TIMEOUT" list; then
    log "cannot list the models of the server: $CLI_ERROR"
    return 2
  fi
  mapfile -t SERVER_NAMES < <(listed_models)
  for name in "${SERVER_NAMES[@]}"; do
    LISTED[${name,,}]=1
  done

  for i in "${!ENTRY_KIND[@]}"; do
    key=$(entry_key "$i")
    if ! needs_work "$i"; then
      unset 'FAILURES[$key]' 'NEXT_TRY[$key]'
      continue
    fi
    now_ms
    if ((NOW_MS < ${NEXT_TRY[$key]:-0})); then
      status=1 # backing off; logged when the attempt failed
      continue
    fi
    if ! take_lock; then
      status=1
      break
    fi
    log "reconciling ${ENTRY_KIND[$i]} ${ENTRY_REF[$i]} (${ENTRY_WHERE[$i]##*/}): $REASON"
    if ensure_entry "$i"; then
      unset 'FAILURES[$key]' 'NEXT_TRY[$key]'
      LISTED[${ENTRY_REF[$i],,}]=1
      if [[ -n ${ENTRY_ALIAS[$i]} ]]; then
        LISTED[${ENTRY_ALIAS[$i],,}]=1
      fi
      if ((ENTRY_PULLED)); then
        PULLED_NOW[${ENTRY_REF[$i],,}]=1
        if [[ -n ${ENTRY_ALIAS[$i]} ]]; then
          PULLED_NOW[${ENTRY_ALIAS[$i],,}]=1
        fi
      fi
      if [[ ${ENTRY_KIND[$i]} == create ]]; then
        CREATED[${ENTRY_REF[$i]}]=$(file_hash "$SPEC/${ENTRY_MODELFILE[$i]}")
      fi
    else
      record_failure "$key"
      log "ERROR: $ENTRY_ERROR; next attempt in ${DELAY}s (failure ${FAILURES[$key]})"
      status=1
    fi
  done

  if ((REMOVE_UNLISTED)); then
    remove_unlisted || status=1
  fi
  if ((LOCKED)); then
    lock_release
    LOCKED=0
  fi
  ((SPEC_ERRORS == 0)) || status=1
  return "$status"
}

on_signal() {
  log "received $1; exiting"
  exit 0
}

main() {
  local status state="" previous=""
  trap 'kill_child; lock_release || true' EXIT
  trap 'on_signal SIGTERM' TERM
  trap 'on_signal SIGINT' INT
  local removing=""
  if ((REMOVE_UNLISTED)); then
    removing=", removing unlisted models"
  fi
  log "managing the models of ${OLLAMA_HOST:-127.0.0.1:11434} from $SPEC/models.list every ${INTERVAL}s$removing"
  wait_for_server "$SERVER_TIMEOUT"
  while :; do
    status=0
    reconcile || status=$?
    if ((status == 2)); then
      wait_for_server "$SERVER_TIMEOUT"
      continue
    fi
    if ((status == 0)); then
      state="all ${#ENTRY_KIND[@]} model(s) of models.list are in place"
    else
      state="some models of models.list are not in place yet"
    fi
    if ((ONESHOT)); then
      log "$state"
      exit "$status"
    fi
    if [[ $state != "$previous" ]]; then
      log "$state; checking again every ${INTERVAL}s"
      previous=$state
    fi
    pause "$INTERVAL"
  done
}

main "$@"
