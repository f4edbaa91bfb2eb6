# shellcheck shell=bash
# Shared functions for the ollama-constructs scripts. Sourced, never run:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Runs inside the official ollama image, which has bash, coreutils, grep and sed
# but no curl or wget: everything goes through the `ollama` CLI. That CLI's HTTP
# client has no timeout, so every call is bounded with coreutils `timeout`.
#
# Environment:
#   OLLAMA_CLI_TIMEOUT_SECONDS  bound for one short CLI call (list, show, ps); default 10
#   OLLAMA_POLL_INTERVAL_SECONDS  pause between polls of the server; default 1
#   OLLAMA_HOST                 read by the ollama CLI itself; only logged here

# Log lines look like "[model-pull] message"; the tag is the running script's name.
LOG_TAG=$(basename "${BASH_SOURCE[-1]}" .sh)
# A file that also receives every log line (best effort); empty for none.
LOG_COPY=""

log() {
  local line="[$LOG_TAG] $*"
  printf '%s\n' "$line"
  if [[ -n $LOG_COPY ]]; then
    { printf '%s\n' "$line" >>"$LOG_COPY"; } 2>/dev/null || true
  fi
}

warn() { log "WARNING: $*"; }

# die MESSAGE [EXIT_CODE]: log an error and exit (default code 1).
die() {
  log "ERROR: $1"
  exit "${2:-1}"
}

# require_uint NAME VALUE: exit 2 unless VALUE is a non-negative integer.
require_uint() {
  [[ $2 =~ ^[0-9]+$ ]] || die "$1 must be a non-negative integer of seconds or a count, got '$2'" 2
}

# flag_enabled NAME: whether the environment variable NAME is 1 (true/yes/on);
# unset or empty means 0. Exits 2 on any other value.
flag_enabled() {
  local value=${!1:-0}
  case "${value,,}" in
    1 | true | yes | on) return 0 ;;
    0 | false | no | off) return 1 ;;
    *) die "$1 must be 0 or 1, got '$value'" 2 ;;
  esac
}

CLI_TIMEOUT=${OLLAMA_CLI_TIMEOUT_SECONDS:-10}
require_uint OLLAMA_CLI_TIMEOUT_SECONDS "$CLI_TIMEOUT"
((CLI_TIMEOUT > 0)) || die "OLLAMA_CLI_TIMEOUT_SECONDS must be at least 1" 2
POLL_INTERVAL=${OLLAMA_POLL_INTERVAL_SECONDS:-1}
[[ $POLL_INTERVAL =~ ^[0-9]*\.?[0-9]+$ ]] ||
  die "OLLAMA_POLL_INTERVAL_SECONDS must be a number of seconds, got '$POLL_INTERVAL'" 2

# Output and error line of the last run_cli call.
CLI_OUTPUT=""
CLI_ERROR=""

# cli_error_line TEXT: the CLI's last "Error: ..." line without the prefix, else its
# last non-empty line. Progress output may use carriage returns and ANSI escapes.
cli_error_line() {
  local text line
  text=$(printf '%s\n' "$1" | tr '\r' '\n' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g')
  line=$(printf '%s\n' "$text" | grep -a '^Error: ' | tail -n 1) || true
  if [[ -z $line ]]; then
    line=$(printf '%s\n' "$text" | grep -av '^[[:space:]]*$' | tail -n 1) || true
  fi
  line=${line#Error: }
  printf '%s' "${line:-no output}"
}

# run_cli SECONDS ARGS...: run `ollama ARGS...` bounded by SECONDS (0: no bound).
# Sets CLI_OUTPUT (stdout and stderr) and CLI_ERROR; returns the CLI's exit code.
run_cli() {
  local limit=$1 rc=0
  shift
  CLI_OUTPUT=$(timeout "$limit" ollama "$@" 2>&1) || rc=$?
  CLI_ERROR=""
  if ((rc == 124)); then
    CLI_ERROR="'ollama $1' did not answer within ${limit}s"
  elif ((rc != 0)); then
    CLI_ERROR=$(cli_error_line "$CLI_OUTPUT")
  fi
  return "$rc"
}

# wait_for_server DEADLINE_SECONDS [SERVER_PID]: poll `ollama list` every
# POLL_INTERVAL seconds until it succeeds. Exits 1 when the deadline passes, or at
# once when SERVER_PID (a child of this shell) has exited.
wait_for_server() {
  local limit=$1 pid=${2:-} start=$SECONDS remaining status
  log "waiting up to ${limit}s for the ollama server at ${OLLAMA_HOST:-127.0.0.1:11434}"
  while :; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      status=0
      wait "$pid" 2>/dev/null || status=$?
      die "the ollama server (pid $pid) exited with status $status before it became ready"
    fi
    remaining=$((start + limit - SECONDS))
    if ((remaining <= 0)); then
      die "the ollama server at ${OLLAMA_HOST:-127.0.0.1:11434} did not become ready within ${limit}s (last error: ${CLI_ERROR:-none})"
    fi
    if run_cli "$((remaining < CLI_TIMEOUT ? remaining : CLI_TIMEOUT))" list; then
      log "the ollama server is ready (after $((SECONDS - start))s)"
      return 0
    fi
    sleep "$POLL_INTERVAL" # poll interval, not a synchronization delay
  done
}

# next_retry_delay SECONDS CAP: the delay after SECONDS in an exponential backoff
# (doubled, at most CAP).
next_retry_delay() {
  local doubled=$(($1 * 2))
  printf '%s\n' "$((doubled > $2 ? $2 : doubled))"
}

# normalize_model REF: the name as `ollama list`, `show` and `ps` print it (Ollama's
# DisplayShortest): `:latest` is added when the last path segment has no tag, and
# the default registry.ollama.ai host and library namespace are dropped.
#   phi -> phi:latest   phi:2.7b -> phi:2.7b   library/phi -> phi:latest
#   registry.local:5000/library/llama3.2 -> registry.local:5000/library/llama3.2:latest
normalize_model() {
  local ref=${1#*://}
  [[ -n $ref && $ref != */ ]] || return 1
  [[ ${ref##*/} == *:* ]] || ref+=":latest"
  local -a parts
  IFS=/ read -r -a parts <<<"$ref"
  if ((${#parts[@]} == 3)) && [[ ${parts[0]} == registry.ollama.ai ]]; then
    ref=${ref#*/}
    parts=("${parts[@]:1}")
  fi
  if ((${#parts[@]} == 2)) && [[ ${parts[0]} == library ]]; then
    ref=${ref#*/}
  fi
  printf '%s\n' "$ref"
}

# model_is_present MODEL: 0 when `ollama show` knows MODEL, 1 when the server says
# it is not found, 2 when the question could not be answered (see CLI_ERROR).
model_is_present() {
  if run_cli "$CLI_TIMEOUT" show "$1"; then
    return 0
  elif [[ $CLI_ERROR == *"not found"* ]]; then
    return 1
  fi
  return 2
}

# model_is_loaded MODEL: 0 when the NAME column of `ollama ps` equals MODEL (a
# normalized name) exactly, 1 when it is not listed, 2 when ps failed (CLI_ERROR).
model_is_loaded() {
  local name _rest header=1
  run_cli "$CLI_TIMEOUT" ps || return 2
  while read -r name _rest; do
    if ((header)); then
      header=0
    elif [[ $name == "$1" ]]; then
      return 0
    fi
  done <<<"$CLI_OUTPUT"
  return 1
}

# model_id MODEL: the 12-hex ID (manifest digest prefix) `ollama list` shows, or nothing.
model_id() {
  local name id _rest
  run_cli "$CLI_TIMEOUT" list || return 0
  while read -r name id _rest; do
    if [[ $name == "$1" ]]; then
      printf '%s' "$id"
      return 0
    fi
  done <<<"$CLI_OUTPUT"
}
