# shellcheck shell=bash
# Shared functions for the ollama-constructs scripts. Sourced, never run:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Runs inside the official ollama image, which has bash, coreutils, grep, sed and mawk
# but no curl, wget or flock: everything goes through the `ollama` CLI. That CLI's HTTP
# client has no timeout (api/client.go: http.DefaultClient), so every call is bounded
# with coreutils `timeout`, and its stdin is /dev/null (`ollama run` reads a stdin that
# is not a terminal to its end). CLI calls and pauses run as children the shell waits
# for, so a trapped SIGTERM is handled at once instead of after the call.
#
# Model names are compared as Ollama compares them (types/model/name.go): the default
# registry.ollama.ai host and library namespace dropped (case-insensitively), `:latest`
# added, and the rest compared without regard to case, because the server rewrites each
# part of a name to the case of a manifest already on disk (getExistingName in
# server/routes.go). Manifests are looked up on disk the same way.
#
# Environment:
#   OLLAMA_CLI_TIMEOUT_SECONDS    bound for one short CLI call (list, show, ps, cp, rm); default 10
#   OLLAMA_POLL_INTERVAL_SECONDS  pause between polls of the server or a lock; default 1
#   OLLAMA_HOST                   read by the ollama CLI itself; only logged here
#   OLLAMA_MODELS, HOME           where the model store is (manifest digests are read from it)
# The model-list, pull and lock functions below read more settings; see load_pull_settings.

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

# require_seconds NAME VALUE: exit 2 unless VALUE is a non-negative number (0.5 allowed).
require_seconds() {
  [[ $2 =~ ^[0-9]*\.?[0-9]+$ ]] || die "$1 must be a number of seconds, got '$2'" 2
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
require_seconds OLLAMA_POLL_INTERVAL_SECONDS "$POLL_INTERVAL"

# Output and error line of the last run_cli call.
CLI_OUTPUT=""
CLI_ERROR=""
# The child (a CLI call or a pause) the shell is waiting for, so a signal trap can end it.
CHILD_PID=""

# kill_child: end the CLI call or pause in progress, if any (for EXIT and signal traps).
kill_child() {
  if [[ -n $CHILD_PID ]]; then
    kill -TERM "$CHILD_PID" 2>/dev/null || true
    CHILD_PID=""
  fi
}

# pause SECONDS: sleep, interruptibly (a trapped signal is handled at once).
pause() {
  sleep "$1" &
  CHILD_PID=$!
  wait "$CHILD_PID" || true
  CHILD_PID=""
}

# cli_error_line TEXT: the CLI's last "Error: ..." line without the prefix, else its
# last non-empty line. The progress display (progress/progress.go) draws its spinner with
# escape codes and clears it without a newline, so the error may follow spinner frames on
# the same line: a carriage return, "cursor to column 1" (ESC[1G) and "erase line"
# (ESC[2K) start a new line here, and other escape codes are dropped.
cli_error_line() {
  local text line
  text=$(printf '%s\n' "$1" | tr '\r' '\n' | sed -e 's/\x1b\[[0-9]*G/\n/g' -e 's/\x1b\[2K/\n/g' \
    -e 's/\x1b\[[0-9;?]*[A-Za-z]//g')
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
  local limit=$1 rc=0 fd
  shift
  exec {fd}< <(exec timeout "$limit" ollama "$@" 2>&1 </dev/null)
  CHILD_PID=$!
  CLI_OUTPUT=""
  IFS= read -r -d '' -u "$fd" CLI_OUTPUT || true
  exec {fd}<&-
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  while [[ $CLI_OUTPUT == *$'\n' ]]; do
    CLI_OUTPUT=${CLI_OUTPUT%$'\n'}
  done
  CLI_ERROR=""
  if ((rc == 124)); then
    CLI_ERROR="'ollama $1' did not answer within ${limit}s"
  elif ((rc != 0)); then
    CLI_ERROR=$(cli_error_line "$CLI_OUTPUT")
  fi
  return "$rc"
}

# wait_for_server DEADLINE_SECONDS [SERVER_PID]: poll `ollama list` every
# POLL_INTERVAL seconds until it succeeds. Exits 1 when the deadline passes (0: no
# deadline), or at once when SERVER_PID (a child of this shell) has exited.
wait_for_server() {
  local limit=$1 pid=${2:-} start=$SECONDS remaining bound status
  if ((limit > 0)); then
    log "waiting up to ${limit}s for the ollama server at ${OLLAMA_HOST:-127.0.0.1:11434}"
  else
    log "waiting for the ollama server at ${OLLAMA_HOST:-127.0.0.1:11434}"
  fi
  while :; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      status=0
      wait "$pid" 2>/dev/null || status=$?
      die "the ollama server (pid $pid) exited with status $status before it became ready"
    fi
    bound=$CLI_TIMEOUT
    if ((limit > 0)); then
      remaining=$((start + limit - SECONDS))
      if ((remaining <= 0)); then
        die "the ollama server at ${OLLAMA_HOST:-127.0.0.1:11434} did not become ready within ${limit}s (last error: ${CLI_ERROR:-none})"
      fi
      bound=$((remaining < CLI_TIMEOUT ? remaining : CLI_TIMEOUT))
    fi
    if run_cli "$bound" list; then
      log "the ollama server is ready (after $((SECONDS - start))s)"
      return 0
    fi
    pause "$POLL_INTERVAL" # poll interval, not a synchronization delay
  done
}

# next_retry_delay SECONDS CAP: the delay after SECONDS in an exponential backoff
# (doubled, at most CAP).
next_retry_delay() {
  local doubled=$(($1 * 2))
  printf '%s\n' "$((doubled > $2 ? $2 : doubled))"
}

# normalize_model REF: the name as `ollama list`, `show` and `ps` print it (Ollama's
# DisplayShortest): `:latest` is added when the last path segment has no tag, and the
# default registry.ollama.ai host and library namespace are dropped, in any case.
#   phi -> phi:latest   phi:2.7b -> phi:2.7b   library/phi -> phi:latest
#   Registry.Ollama.AI/Library/Phi -> Phi:latest
#   registry.local:5000/library/llama3.2 -> registry.local:5000/library/llama3.2:latest
normalize_model() {
  local ref=${1#*://}
  [[ -n $ref && $ref != */ ]] || return 1
  [[ ${ref##*/} == *:* ]] || ref+=":latest"
  local -a parts
  IFS=/ read -r -a parts <<<"$ref"
  if ((${#parts[@]} == 3)) && [[ ${parts[0],,} == registry.ollama.ai ]]; then
    ref=${ref#*/}
    parts=("${parts[@]:1}")
  fi
  if ((${#parts[@]} == 2)) && [[ ${parts[0],,} == library ]]; then
    ref=${ref#*/}
  fi
  printf '%s\n' "$ref"
}

# same_model A B: whether A and B name the same model for Ollama (normalized, any case).
same_model() {
  local a b
  a=$(normalize_model "$1") || return 1
  b=$(normalize_model "$2") || return 1
  [[ ${a,,} == "${b,,}" ]]
}

# Ollama's name grammar (types/model/name.go): [scheme://][host/][namespace/]model[:tag].
NAME_HOST_RE='^[A-Za-z0-9._:-]{1,350}$'
NAME_NAMESPACE_RE='^[A-Za-z0-9_][A-Za-z0-9_-]{0,79}$'
NAME_PART_RE='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$'

# model_name_parts REF: split REF into NAME_HOST, NAME_NAMESPACE, NAME_MODEL and
# NAME_TAG with Ollama's defaults; returns 1 when REF is not a valid model name.
model_name_parts() {
  local ref=${1#*://} last
  local -a segments
  NAME_HOST="" NAME_NAMESPACE="" NAME_MODEL="" NAME_TAG=""
  [[ -n $ref && $ref != */ && $ref != /* && $ref != *//* && $ref != -* ]] || return 1
  IFS=/ read -r -a segments <<<"$ref"
  last=${segments[-1]}
  NAME_MODEL=${last%%:*}
  NAME_TAG=latest
  [[ $last != *:* ]] || NAME_TAG=${last#*:}
  case ${#segments[@]} in
    1) NAME_HOST=registry.ollama.ai NAME_NAMESPACE=library ;;
    2) NAME_HOST=registry.ollama.ai NAME_NAMESPACE=${segments[0]} ;;
    3) NAME_HOST=${segments[0]} NAME_NAMESPACE=${segments[1]} ;;
    *) return 1 ;;
  esac
  [[ $NAME_HOST =~ $NAME_HOST_RE && $NAME_NAMESPACE =~ $NAME_NAMESPACE_RE &&
    $NAME_MODEL =~ $NAME_PART_RE && $NAME_TAG =~ $NAME_PART_RE ]]
}

# models_dir: the model store, as the server computes it.
models_dir() {
  printf '%s\n' "${OLLAMA_MODELS:-${HOME:-/root}/.ollama/models}"
}

# manifest_path REF: REF's manifest on disk (manifest/paths.go), found as the server finds
# it: each part of the name compared without regard to case. Prints the path of an exact
# match, else of a match in another case, else the path the server would write; returns 1
# only when REF is not a valid name.
manifest_path() {
  model_name_parts "$1" || return 1
  local root wanted path rel found=""
  root="$(models_dir)/manifests"
  wanted="$NAME_HOST/$NAME_NAMESPACE/$NAME_MODEL/$NAME_TAG"
  if [[ ! -f $root/$wanted ]]; then
    for path in "$root"/*/*/*/*; do
      rel=${path#"$root/"}
      if [[ -f $path && ${rel##*/} != .* && ${rel,,} == "${wanted,,}" ]]; then
        found=$path
        break
      fi
    done
  fi
  printf '%s\n' "${found:-$root/$wanted}"
}

# manifest_digest REF: "sha256:<hex>" of REF's manifest file (what /api/tags reports
# as its digest), or nothing when REF is not on disk.
manifest_digest() {
  local path hex _rest
  path=$(manifest_path "$1") || return 0
  [[ -f $path ]] || return 0
  read -r hex _rest < <(sha256sum "$path") || return 0
  printf 'sha256:%s\n' "$hex"
}

# file_weights FILE: the digest of the weights (the layer of media type
# application/vnd.ollama.image.model) a manifest file names, or nothing. Layers hold no
# nested objects, so after dropping white space each one is the text between braces.
file_weights() {
  local layer
  [[ -f $1 ]] || return 0
  while IFS= read -r layer; do
    if [[ $layer == *'"mediaType":"application/vnd.ollama.image.model"'* &&
      $layer =~ \"digest\":\"(sha256:[0-9a-f]{64})\" ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
  done < <(tr -d ' \t\r\n' <"$1" | tr '{}' '\n')
}

# model_weights REF: the weights digest of REF's manifest on disk, or nothing.
model_weights() {
  local path
  path=$(manifest_path "$1") || return 0
  file_weights "$path"
}

# weights_of_id ID: the weights digest of the manifest whose sha256 starts with ID (the
# 12 hex of `ollama list` and `ollama ps`), or nothing when no manifest on disk has it.
weights_of_id() {
  local path hex _rest root
  [[ $1 =~ ^[0-9a-f]{12}$ ]] || return 0
  root="$(models_dir)/manifests"
  for path in "$root"/*/*/*/*; do
    [[ -f $path && ${path##*/} != .* ]] || continue
    read -r hex _rest < <(sha256sum "$path") || continue
    if [[ $hex == "$1"* ]]; then
      file_weights "$path"
      return 0
    fi
  done
}

# server_answers: 0 when the server answers `GET /api/version` within CLI_TIMEOUT (the
# root command's version handler; it reaches no scheduler lock), else 1 with CLI_ERROR.
# `ollama -v` exits 0 either way, so its output says which.
server_answers() {
  if run_cli "$CLI_TIMEOUT" -v && [[ $CLI_OUTPUT == *"ollama version is "* ]]; then
    return 0
  fi
  if [[ -z $CLI_ERROR ]]; then
    CLI_ERROR="the server at ${OLLAMA_HOST:-127.0.0.1:11434} does not answer (ollama -v: ${CLI_OUTPUT//$'\n'/; })"
  fi
  return 1
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

# model_is_loaded MODEL: whether a runner of MODEL's weights is loaded, after `ollama ps`
# (GET /api/ps). The scheduler keys runners by their weights and lists a runner under the
# first name that loaded it (server/sched.go), so an alias or a model created FROM MODEL
# can stand for it: rows are matched by the weights their ID names on disk, then by name.
# Returns 0 when loaded (LOADED_NAME, LOADED_CONTEXT and LOADED_UNTIL describe the row), 1
# when not (LOADED_NAMES lists what is), 2 when ps failed and 3 when it did not answer
# within CLI_TIMEOUT: /api/ps waits while any runner loads, so no answer means "a load is
# running", never "not loaded".
# shellcheck disable=SC2034 # LOADED_* are for the scripts sourcing this file
model_is_loaded() {
  local wanted name id size unit processor context until header=1 weights
  LOADED_NAME="" LOADED_CONTEXT="" LOADED_UNTIL="" LOADED_NAMES=""
  wanted=$(model_weights "$1")
  if ! run_cli "$CLI_TIMEOUT" ps; then
    [[ $CLI_ERROR != *"did not answer within"* ]] || return 3
    return 2
  fi
  while read -r name id size unit processor context until; do
    if ((header)); then
      header=0
      continue
    fi
    [[ -n $name ]] || continue
    LOADED_NAMES+="${LOADED_NAMES:+, }$name"
    # SIZE is "4.7 GB" and PROCESSOR "100% GPU" or "48%/52% CPU/GPU": CONTEXT is the next word.
    if [[ $processor == *% ]]; then
      read -r context until <<<"$until"
    fi
    weights=""
    if [[ -n $wanted ]]; then
      weights=$(weights_of_id "$id")
    fi
    if { [[ -n $wanted && $weights == "$wanted" ]]; } || same_model "$name" "$1"; then
      LOADED_NAME=$name LOADED_CONTEXT=$context LOADED_UNTIL=$until
      return 0
    fi
  done <<<"$CLI_OUTPUT"
  return 1
}

# model_is_embedding MODEL: 0 when `ollama show MODEL` lists the capability "embedding"
# (cmd/cmd.go showInfo), 1 when it does not, 2 when show failed (CLI_ERROR).
model_is_embedding() {
  local line section=""
  run_cli "$CLI_TIMEOUT" show "$1" || return 2
  while IFS= read -r line; do
    if [[ $line =~ ^\ \ ([A-Z][A-Za-z]*)$ ]]; then
      section=${BASH_REMATCH[1]}
    elif [[ $section == Capabilities && ${line//[[:space:]]/} == embedding ]]; then
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
    if [[ ${name,,} == "${1,,}" ]]; then
      printf '%s' "$id"
      return 0
    fi
  done <<<"$CLI_OUTPUT"
}

# listed_models: the NAME column of the last `ollama list` output in CLI_OUTPUT.
listed_models() {
  local name _rest header=1
  while read -r name _rest; do
    if ((header)); then
      header=0
    elif [[ -n $name ]]; then
      printf '%s\n' "$name"
    fi
  done <<<"$CLI_OUTPUT"
}

# --------------------------------------------------------------------------- the model list
#
# One entry per line; blank lines and words from a leading `#` on are ignored:
#   pull <ref> [digest=sha256:<64 lower-case hex>] [alias=<name:tag>] [insecure]
#   create <name:tag> modelfile=<file name in the list's directory>
# Entries are kept in the ENTRY_* arrays (names normalized), in file order.

SPEC_DIR=""
SPEC_STRICT=1
SPEC_QUIET=0 # 1: count invalid lines without logging them (a list already reported)
SPEC_ERRORS=0
# shellcheck disable=SC2034 # ENTRY_WHERE and ENTRY_KEY are for the scripts sourcing this file
ENTRY_KIND=() ENTRY_REF=() ENTRY_DIGEST=() ENTRY_ALIAS=() ENTRY_INSECURE=()
ENTRY_MODELFILE=() ENTRY_WHERE=() ENTRY_KEY=()
declare -gA SPEC_NAMES=() # normalized name in lower case (Ollama ignores case) -> where it is defined

spec_reset() {
  SPEC_ERRORS=0
  # shellcheck disable=SC2034
  ENTRY_KIND=() ENTRY_REF=() ENTRY_DIGEST=() ENTRY_ALIAS=() ENTRY_INSECURE=()
  ENTRY_MODELFILE=() ENTRY_WHERE=() ENTRY_KEY=()
  SPEC_NAMES=()
}

# spec_error WHERE MESSAGE: an invalid line; an error (SPEC_STRICT=1) or a skipped line.
spec_error() {
  SPEC_ERRORS=$((SPEC_ERRORS + 1))
  if ((SPEC_STRICT)); then
    log "ERROR: $1: $2"
  elif ((!SPEC_QUIET)); then
    warn "$1: $2; skipping this line"
  fi
}

# spec_check_name WHERE WHAT VALUE: set CHECKED_NAME to VALUE normalized, or report
# VALUE invalid and return 1.
spec_check_name() {
  CHECKED_NAME=""
  if [[ $3 == *@* ]]; then
    spec_error "$1" "invalid $2 '$3': Ollama cannot pull by digest; pin it with digest=sha256:<64 hex>"
    return 1
  fi
  if ! model_name_parts "$3"; then
    spec_error "$1" "invalid $2 '$3' (expected [host[:port]/namespace/]name[:tag])"
    return 1
  fi
  CHECKED_NAME=$(normalize_model "$3")
}

# spec_claim WHERE NAME: NAME must not be defined twice (in any case: Ollama would
# store both under the first one's name).
spec_claim() {
  if [[ -n ${SPEC_NAMES[${2,,}]:-} ]]; then
    spec_error "$1" "'$2' is already defined on ${SPEC_NAMES[${2,,}]}"
    return 1
  fi
}

# spec_add KIND REF DIGEST ALIAS INSECURE MODELFILE WHERE
spec_add() {
  local i=${#ENTRY_KIND[@]}
  ENTRY_KIND[i]=$1 ENTRY_REF[i]=$2 ENTRY_DIGEST[i]=$3 ENTRY_ALIAS[i]=$4
  ENTRY_INSECURE[i]=$5 ENTRY_MODELFILE[i]=$6
  # shellcheck disable=SC2034 # ENTRY_WHERE and ENTRY_KEY are for the scripts sourcing this file
  ENTRY_WHERE[i]=$7 ENTRY_KEY[i]="$1 $2 digest=$3 alias=$4 insecure=$5 modelfile=$6"
  SPEC_NAMES[${2,,}]=$7
  if [[ -n $4 ]]; then
    SPEC_NAMES[${4,,}]=$7
  fi
}

# spec_parse_line WHERE LINE
spec_parse_line() {
  local where=$1 word ref name value digest="" alias="" insecure=0 modelfile=""
  local -a raw words=() seen=()
  read -r -a raw <<<"${2//$'\r'/}"
  for word in "${raw[@]}"; do
    [[ $word != \#* ]] || break
    words+=("$word")
  done
  ((${#words[@]} > 0)) || return 0
  case ${words[0]} in
    pull)
      ((${#words[@]} >= 2)) || {
        spec_error "$where" "'pull' needs a model reference"
        return 0
      }
      spec_check_name "$where" "model reference" "${words[1]}" || return 0
      ref=$CHECKED_NAME
      for word in "${words[@]:2}"; do
        name=${word%%=*}
        if [[ " ${seen[*]} " == *" $name "* ]]; then
          spec_error "$where" "option '$name' is given twice"
          return 0
        fi
        seen+=("$name")
        value=${word#*=}
        case $word in
          digest=*)
            if [[ ! $value =~ ^sha256:[0-9a-f]{64}$ ]]; then
              spec_error "$where" "invalid digest '$value' (expected digest=sha256:<64 lower-case hex>)"
              return 0
            fi
            digest=$value
            ;;
          alias=*)
            spec_check_name "$where" "alias" "$value" || return 0
            alias=$CHECKED_NAME
            if [[ ${alias,,} == "${ref,,}" ]]; then
              spec_error "$where" "alias '$value' is the model reference itself"
              return 0
            fi
            ;;
          insecure) insecure=1 ;;
          *)
            spec_error "$where" "unknown option '$word' for 'pull' (expected digest=sha256:<hex>, alias=<name:tag> or insecure)"
            return 0
            ;;
        esac
      done
      spec_claim "$where" "$ref" || return 0
      if [[ -n $alias ]]; then
        spec_claim "$where" "$alias" || return 0
      fi
      spec_add pull "$ref" "$digest" "$alias" "$insecure" "" "$where"
      ;;
    create)
      ((${#words[@]} >= 2)) || {
        spec_error "$where" "'create' needs a model name"
        return 0
      }
      spec_check_name "$where" "model name" "${words[1]}" || return 0
      name=$CHECKED_NAME
      for word in "${words[@]:2}"; do
        case $word in
          modelfile=*)
            if [[ -n $modelfile ]]; then
              spec_error "$where" "option 'modelfile' is given twice"
              return 0
            fi
            modelfile=${word#modelfile=}
            if [[ -z $modelfile || $modelfile == */* || $modelfile == . || $modelfile == .. ]]; then
              spec_error "$where" "modelfile '$modelfile' must be the name of a file in $SPEC_DIR"
              return 0
            fi
            ;;
          *)
            spec_error "$where" "unknown option '$word' for 'create' (expected modelfile=<file name>)"
            return 0
            ;;
        esac
      done
      if [[ -z $modelfile ]]; then
        spec_error "$where" "'create $name' needs modelfile=<file name>"
        return 0
      fi
      spec_claim "$where" "$name" || return 0
      spec_add create "$name" "" "" 0 "$modelfile" "$where"
      ;;
    *) spec_error "$where" "unknown entry '${words[0]}' (expected 'pull' or 'create')" ;;
  esac
}

# spec_load DIR: read DIR/models.list into the ENTRY_* arrays. Returns 1 when the
# file cannot be read; invalid lines are counted in SPEC_ERRORS (see SPEC_STRICT).
spec_load() {
  local file="$1/models.list" line number=0
  spec_reset
  SPEC_DIR=$1
  [[ -f $file && -r $file ]] || return 1
  while IFS= read -r line || [[ -n $line ]]; do
    number=$((number + 1))
    spec_parse_line "$file line $number" "$line"
  done <"$file"
}

# spec_from_words WHERE WORDS: plain `pull` entries from a white-space separated list
# (OLLAMA_PULL_MODELS); a model listed twice is pulled once.
spec_from_words() {
  local ref model
  local -a refs
  spec_reset
  read -r -d '' -a refs <<<"$2" || true
  for ref in "${refs[@]}"; do
    if [[ $ref == -* || $ref == *@* ]] || ! model_name_parts "$ref"; then
      die "invalid model name '$ref' in $1" 2
    fi
    model=$(normalize_model "$ref")
    if [[ -n ${SPEC_NAMES[${model,,}]:-} ]]; then
      log "$ref is listed more than once; pulling it once"
    else
      spec_add pull "$model" "" "" 0 "" "$1"
    fi
  done
}

# spec_names: every name the list defines (refs, aliases and created models), one a line,
# in lower case.
spec_names() {
  local name
  for name in "${!SPEC_NAMES[@]}"; do
    printf '%s\n' "$name"
  done
}

# --------------------------------------------------------------------------- pulling and building

# load_pull_settings: read and check the pull settings.
#   OLLAMA_PULL_ATTEMPTS             pull attempts per model (default 3)
#   OLLAMA_PULL_RETRY_DELAY_SECONDS  first retry delay, doubled each time (default 5)
#   OLLAMA_PULL_TIMEOUT_SECONDS      bound for one pull or create, 0 = none (default 0)
#   OLLAMA_PULL_REFRESH              1: also pull unpinned models already present (default 0)
#   OLLAMA_PULL_INSECURE             1: pull every model with --insecure (default 0)
load_pull_settings() {
  PULL_ATTEMPTS=${OLLAMA_PULL_ATTEMPTS:-3}
  RETRY_DELAY=${OLLAMA_PULL_RETRY_DELAY_SECONDS:-5}
  PULL_TIMEOUT=${OLLAMA_PULL_TIMEOUT_SECONDS:-0}
  require_uint OLLAMA_PULL_ATTEMPTS "$PULL_ATTEMPTS"
  require_uint OLLAMA_PULL_RETRY_DELAY_SECONDS "$RETRY_DELAY"
  require_uint OLLAMA_PULL_TIMEOUT_SECONDS "$PULL_TIMEOUT"
  ((PULL_ATTEMPTS >= 1)) || die "OLLAMA_PULL_ATTEMPTS must be at least 1" 2
  RETRY_DELAY_CAP=60
  REFRESH=0
  if flag_enabled OLLAMA_PULL_REFRESH; then REFRESH=1; fi
  INSECURE_ALL=0
  if flag_enabled OLLAMA_PULL_INSECURE; then INSECURE_ALL=1; fi
  PULL_ATTEMPTS_MADE=0
  ENTRY_ERROR=""
  ENTRY_PULLED=0
}

# is_permanent_error TEXT: errors that retrying cannot fix.
is_permanent_error() {
  [[ $1 == *"file does not exist"* || $1 == *"invalid model name"* || $1 == *"requires a newer version"* ]]
}

# pull_model MODEL INSECURE: pull with up to PULL_ATTEMPTS attempts and backoff. On
# failure CLI_ERROR holds the last error and PULL_ATTEMPTS_MADE the number of attempts.
pull_model() {
  local model=$1 attempt=1 delay=$RETRY_DELAY how=""
  local -a args=(pull)
  if (($2 || INSECURE_ALL)); then
    args+=(--insecure)
    how=" over plain HTTP (--insecure)"
  fi
  args+=("$model")
  ENTRY_PULLED=1
  while :; do
    PULL_ATTEMPTS_MADE=$attempt
    log "pulling $model$how (attempt $attempt of $PULL_ATTEMPTS)"
    if run_cli "$PULL_TIMEOUT" "${args[@]}"; then
      log "pulled $model"
      return 0
    fi
    log "attempt $attempt of $PULL_ATTEMPTS to pull $model failed: $CLI_ERROR"
    if is_permanent_error "$CLI_ERROR"; then
      log "not retrying: this error is permanent"
      return 1
    fi
    ((attempt < PULL_ATTEMPTS)) || return 1
    log "retrying in ${delay}s"
    pause "$delay"
    delay=$(next_retry_delay "$delay" "$RETRY_DELAY_CAP")
    attempt=$((attempt + 1))
  done
}

# remove_model MODEL WHY: `ollama rm MODEL`; logs the outcome, returns the CLI's status.
remove_model() {
  log "removing $1: $2"
  if run_cli "$CLI_TIMEOUT" rm "$1"; then
    log "removed $1"
    return 0
  fi
  log "could not remove $1: $CLI_ERROR"
  return 1
}

# ensure_alias REF ALIAS: ALIAS is a copy of REF (same manifest digest) afterwards.
ensure_alias() {
  local ref=$1 alias=$2 ref_digest alias_digest
  ref_digest=$(manifest_digest "$ref")
  alias_digest=$(manifest_digest "$alias")
  if [[ -n $alias_digest && $alias_digest == "$ref_digest" ]]; then
    log "alias $alias is up to date (a copy of $ref)"
  else
    if [[ -z $alias_digest ]]; then
      log "copying $ref to its alias $alias"
    else
      log "copying $ref to its alias $alias (the alias had digest $alias_digest, $ref has ${ref_digest:-none})"
    fi
    if ! run_cli "$CLI_TIMEOUT" cp "$ref" "$alias"; then
      ENTRY_ERROR="failed to copy $ref to its alias $alias: $CLI_ERROR"
      return 1
    fi
  fi
  if ! model_is_present "$alias"; then
    ENTRY_ERROR="alias $alias is not present after ollama cp (ollama show: $CLI_ERROR)"
    return 1
  fi
}

# ensure_pull_entry INDEX: the pull entry's model (and alias) are on the volume
# afterwards, with the pinned digest if any. Returns 1 with ENTRY_ERROR set otherwise.
ensure_pull_entry() {
  local ref=${ENTRY_REF[$1]} digest=${ENTRY_DIGEST[$1]} alias=${ENTRY_ALIAS[$1]}
  local insecure=${ENTRY_INSECURE[$1]} present=0 pulled=0 actual id
  if [[ -n $digest ]]; then
    actual=$(manifest_digest "$ref")
    if [[ $actual == "$digest" ]]; then
      log "$ref is on the volume with the pinned digest $digest; not contacting the registry"
    else
      if [[ -z $actual ]]; then
        log "$ref is not on the volume; pulling it (pinned to $digest)"
      else
        log "$ref on the volume has digest $actual, not the pinned $digest; pulling it"
      fi
      if ! pull_model "$ref" "$insecure"; then
        ENTRY_ERROR="failed to pull $ref after $PULL_ATTEMPTS_MADE attempt(s); last error from ollama: $CLI_ERROR"
        return 1
      fi
      pulled=1
      actual=$(manifest_digest "$ref")
      if [[ $actual != "$digest" ]]; then
        ENTRY_ERROR="digest mismatch for $ref: expected $digest, but the registry served ${actual:-no manifest}"
        if [[ -n $actual ]]; then
          if remove_model "$ref" "its digest $actual is not the pinned $digest"; then
            ENTRY_ERROR+="; removed $ref from the volume so that it is never served"
          else
            ENTRY_ERROR+="; could not remove it: $CLI_ERROR"
          fi
        fi
        if [[ -n $alias ]]; then
          actual=$(manifest_digest "$alias")
          if [[ -n $actual && $actual != "$digest" ]]; then
            remove_model "$alias" "its digest $actual is not the pinned $digest" || true
          fi
        fi
        return 1
      fi
      log "$ref has the pinned digest $digest"
    fi
  else
    model_is_present "$ref" || present=$?
    if ((present == 0 && !REFRESH)); then
      log "$ref is present on the volume, not pulling"
    elif ((present == 0)); then
      log "$ref is present on the volume; OLLAMA_PULL_REFRESH=1, pulling any update"
      if pull_model "$ref" "$insecure"; then
        pulled=1
      else
        warn "could not refresh $ref ($CLI_ERROR); keeping the copy on the volume"
      fi
    else
      if ((present == 2)); then
        log "could not check whether $ref is present ($CLI_ERROR); pulling it"
      fi
      if ! pull_model "$ref" "$insecure"; then
        ENTRY_ERROR="failed to pull $ref after $PULL_ATTEMPTS_MADE attempt(s); last error from ollama: $CLI_ERROR"
        return 1
      fi
      pulled=1
    fi
  fi
  if ! model_is_present "$ref"; then
    if ((pulled)); then
      ENTRY_ERROR="model $ref is not present after pull (ollama show: $CLI_ERROR)"
    else
      ENTRY_ERROR="model $ref is on the volume but the server cannot use it (ollama show: $CLI_ERROR)"
    fi
    return 1
  fi
  if [[ -n $alias ]]; then
    ensure_alias "$ref" "$alias" || return 1
  fi
  id=$(model_id "$ref")
  log "$ref is ready${alias:+ as $alias}${id:+ (id $id)}"
}

# ensure_create_entry INDEX: `ollama create NAME -f SPEC_DIR/MODELFILE`, then verify.
ensure_create_entry() {
  local name=${ENTRY_REF[$1]} file="$SPEC_DIR/${ENTRY_MODELFILE[$1]}" id
  # The CLI reads a Modelfile it cannot stat as "FROM ." and then says "no Modelfile or
  # safetensors files found" (cmd/cmd.go getModelfileName): say what is really missing.
  if [[ ! -f $file || ! -r $file ]]; then
    ENTRY_ERROR="cannot create $name: its Modelfile $file is missing (is it a key of the model list's ConfigMap?)"
    return 1
  fi
  log "creating $name from $file"
  if ! run_cli "$PULL_TIMEOUT" create "$name" -f "$file"; then
    ENTRY_ERROR="failed to create $name from $file: $CLI_ERROR"
    return 1
  fi
  if ! model_is_present "$name"; then
    ENTRY_ERROR="model $name is not present after ollama create (ollama show: $CLI_ERROR)"
    return 1
  fi
  id=$(model_id "$name")
  log "$name is ready${id:+ (id $id)}"
}

# ensure_entry INDEX: ensure_pull_entry or ensure_create_entry. Sets ENTRY_PULLED=1
# when a pull was started (so models built on it may have changed).
ensure_entry() {
  ENTRY_ERROR=""
  # shellcheck disable=SC2034 # for the scripts sourcing this file
  ENTRY_PULLED=0
  case ${ENTRY_KIND[$1]} in
    pull) ensure_pull_entry "$1" ;;
    create) ensure_create_entry "$1" ;;
  esac
}

# --------------------------------------------------------------------------- the pull lock
#
# A directory made with mkdir (atomic, also on NFS); its file `owner` names the holder
# (hostname, pid, start time) and is touched every LOCK_TIMEOUT/4 seconds while the
# lock is held. A lock whose owner file was not touched for more than LOCK_TIMEOUT
# seconds is stale (its holder died without releasing it) and is taken over.

LOCK_PATH=""
LOCK_TOKEN=""
LOCK_HEARTBEAT_PID=""

# lock_holder PATH: the holder written in the lock, or "an unknown holder".
lock_holder() {
  local holder=""
  { IFS= read -r holder <"$1/owner"; } 2>/dev/null || true
  printf '%s\n' "${holder:-an unknown holder}"
}

# lock_age PATH: seconds since the lock was last refreshed.
lock_age() {
  local stamp now
  stamp=$(stat -c %Y "$1/owner" 2>/dev/null || stat -c %Y "$1" 2>/dev/null) || stamp=""
  printf -v now '%(%s)T' -1
  printf '%s\n' "$((now - ${stamp:-$now}))"
}

# lock_acquire PATH TIMEOUT WAIT: take the lock. With WAIT=1 wait up to TIMEOUT
# seconds for it (exit 1 after that); with WAIT=0 try once and return 1 if it is
# held. A lock not refreshed for more than TIMEOUT seconds is taken over.
lock_acquire() {
  local path=$1 limit=$2 wait=$3 start=$SECONDS holder age announced="" now interval
  printf -v now '%(%s)T' -1
  local token="${HOSTNAME:-$(uname -n)} pid $$ since $now"
  mkdir -p "$(dirname "$path")" 2>/dev/null || true
  while :; do
    if mkdir "$path" 2>/dev/null; then
      if ! printf '%s\n' "$token" >"$path/owner"; then
        rmdir "$path" 2>/dev/null || rm -rf "$path"
        die "cannot write the pull lock $path"
      fi
      LOCK_PATH=$path LOCK_TOKEN=$token
      interval=$((limit / 4 > 0 ? limit / 4 : 1))
      (
        nap=""
        trap - EXIT INT
        trap '[[ -z $nap ]] || kill "$nap" 2>/dev/null; exit 0' TERM
        while :; do
          sleep "$interval" &
          nap=$!
          wait "$nap" || true
          kill -0 "$$" 2>/dev/null || exit 0 # $$ is this script, not the subshell
          [[ $(cat "$path/owner" 2>/dev/null) == "$token" ]] || exit 0
          touch -c "$path/owner" 2>/dev/null || true
        done
      ) >/dev/null 2>&1 </dev/null &
      LOCK_HEARTBEAT_PID=$!
      log "acquired the pull lock $path ($token)"
      return 0
    fi
    [[ -d $path ]] || die "cannot create the pull lock $path (is its directory writable?)"
    holder=$(lock_holder "$path")
    age=$(lock_age "$path")
    if ((age > limit)); then
      log "taking over the stale pull lock $path held by $holder (not refreshed for ${age}s, more than ${limit}s)"
      # Rename first (atomic: of several waiters one wins), then make sure that what was
      # moved is still that stale lock and not one a faster waiter has just taken.
      if mv -T "$path" "$path.stale.$$" 2>/dev/null; then
        if [[ $(lock_holder "$path.stale.$$") == "$holder" ]] && (($(lock_age "$path.stale.$$") > limit)); then
          rm -rf "$path.stale.$$"
        elif ! mv -T "$path.stale.$$" "$path" 2>/dev/null; then
          warn "moved a fresh pull lock aside by mistake and could not put it back; removing it"
          rm -rf "$path.stale.$$"
        fi
      fi
      continue
    fi
    ((wait)) || return 1
    if ((SECONDS - start >= limit)); then
      die "timed out after ${limit}s waiting for the pull lock $path held by $holder"
    fi
    if [[ $holder != "$announced" ]]; then
      log "waiting up to ${limit}s for the pull lock $path held by $holder"
      announced=$holder
    fi
    pause "$POLL_INTERVAL" # poll interval of the lock
  done
}

# lock_release: release the lock if this process still holds it (for the EXIT trap).
lock_release() {
  local path=$LOCK_PATH
  [[ -n $path ]] || return 0
  LOCK_PATH=""
  if [[ -n $LOCK_HEARTBEAT_PID ]]; then
    kill "$LOCK_HEARTBEAT_PID" 2>/dev/null || true
    wait "$LOCK_HEARTBEAT_PID" 2>/dev/null || true
    LOCK_HEARTBEAT_PID=""
  fi
  if [[ $(cat "$path/owner" 2>/dev/null) == "$LOCK_TOKEN" ]]; then
    rm -rf "$path"
    log "released the pull lock $path"
  else
    warn "the pull lock $path was taken over by $(lock_holder "$path"); leaving it"
  fi
}
