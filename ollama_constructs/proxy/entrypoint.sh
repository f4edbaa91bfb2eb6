#!/bin/sh
# Entrypoint of ApiKeyProxy's nginx container (POSIX sh: the Alpine nginx image has busybox sh, no bash).
#
# nginx cannot read a list of keys by itself. This script turns the key file (one key a line; blank
# lines and lines starting with '#' are ignored) into the nginx `map` include that nginx.conf reads,
# starts nginx in the foreground as its child, and keeps the map in step with the file: the kubelet
# rewrites a mounted Secret's files in place when the Secret changes (atomically, through the volume's
# `..data` symlink; never for a subPath mount), so every OLLAMA_AUTH_RELOAD_INTERVAL_SECONDS the file's
# checksum is compared, and on a change the map is rewritten and nginx reloaded (SIGHUP: new workers
# take the new keys, old workers finish the requests they are serving). A removed key is refused from
# then on, without a restart.
#
# At start it refuses to start, with a message on stderr, when the file cannot be read, holds no key,
# or holds a key that is not 16 to 256 characters out of A-Z a-z 0-9 . _ ~ + / = -. On a later change it
# cannot refuse to run, so it fails closed instead: an invalid line is ignored (and logged by its line
# number), a file without any valid key leaves nginx with no key at all (every request gets 401), and
# only an unreadable file keeps the keys loaded before. Keys are never printed nor passed as arguments;
# the map is written with mode 0600.
#
# Signals: SIGTERM, SIGQUIT and SIGINT stop nginx gracefully (SIGQUIT: the answers being streamed are
# finished first); the script exits with nginx's status. SIGHUP reloads the key file at once.
#
# Environment (the construct sets all four):
#   OLLAMA_AUTH_KEYS_FILE                the key file (the Secret's key, mounted read-only)
#   OLLAMA_AUTH_MAP_FILE                 the map include to write (nginx.conf includes this path)
#   OLLAMA_AUTH_NGINX_CONF               the nginx.conf to run
#   OLLAMA_AUTH_RELOAD_INTERVAL_SECONDS  seconds between two checks of the key file (default 5)
set -eu
LC_ALL=C
export LC_ALL

keys_file=${OLLAMA_AUTH_KEYS_FILE:?OLLAMA_AUTH_KEYS_FILE is not set}
map_file=${OLLAMA_AUTH_MAP_FILE:?OLLAMA_AUTH_MAP_FILE is not set}
nginx_conf=${OLLAMA_AUTH_NGINX_CONF:?OLLAMA_AUTH_NGINX_CONF is not set}
reload_interval=${OLLAMA_AUTH_RELOAD_INTERVAL_SECONDS:-5}

MIN_KEY_LENGTH=16
MAX_KEY_LENGTH=256

log() {
  printf 'ollama-auth: %s\n' "$*" >&2
}

refuse() {
  log "refusing to start: $*"
  exit 1
}

case $reload_interval in
  "" | *[!0-9]* | 0) refuse "OLLAMA_AUTH_RELOAD_INTERVAL_SECONDS must be a whole number of seconds, at least 1" ;;
esac

umask 077
entries="$map_file.entries.$$"
map_new="$map_file.new.$$"
trap 'rm -f "$entries" "$map_new"' EXIT

cr=$(printf '\r')
tab=$(printf '\t')

# load_keys STRICT: write the map of the keys in the key file to $map_file and set $count (and $ignored,
# the invalid lines skipped). Returns 1 with the reason in $problem when the file cannot be read, and,
# when STRICT is 1, on the first invalid line or when there is no key; when STRICT is 0 invalid lines are
# skipped and an empty map is written for a file without keys.
load_keys() {
  strict=$1
  count=0
  ignored=0
  if [ ! -f "$keys_file" ] || [ ! -r "$keys_file" ]; then
    problem="cannot read the API key file $keys_file (is the Secret mounted, and does it have the key?)"
    return 1
  fi
  : >"$entries"
  line_no=0
  while IFS= read -r line || [ -n "$line" ]; do
    line_no=$((line_no + 1))
    key=${line%"$cr"}
    # Trim blanks at both ends.
    while :; do
      case $key in
        " "* | "$tab"*) key=${key#?} ;;
        *) break ;;
      esac
    done
    while :; do
      case $key in
        *" " | *"$tab") key=${key%?} ;;
        *) break ;;
      esac
    done
    reason=""
    case $key in
      "" | "#"*) continue ;;
      *[!A-Za-z0-9._~+/=-]*) reason="a key may hold only A-Z a-z 0-9 . _ ~ + / = -" ;;
    esac
    if [ -z "$reason" ] && [ "${#key}" -lt "$MIN_KEY_LENGTH" ]; then
      reason="a key must have at least $MIN_KEY_LENGTH characters"
    fi
    if [ -z "$reason" ] && [ "${#key}" -gt "$MAX_KEY_LENGTH" ]; then
      reason="a key may have at most $MAX_KEY_LENGTH characters"
    fi
    if [ -n "$reason" ]; then
      problem="line $line_no of $keys_file: $reason (the key is not shown)"
      if [ "$strict" = 1 ]; then
        return 1
      fi
      log "ignoring $problem"
      ignored=$((ignored + 1))
      continue
    fi
    printf '%s\n' "$key" >>"$entries"
  done <"$keys_file"

  # One exact, case-sensitive regex per key (nginx matches plain map strings in any case); `.` and `+`
  # are the only characters of the allowed set that a regex treats specially. A key listed twice counts
  # once (nginx refuses a duplicate map entry).
  sort -u "$entries" | sed -e 's/[.+]/\\&/g' -e 's/.*/"~^key:&$" 1;/' >"$map_new"
  count=$(wc -l <"$map_new" | tr -d ' ')
  if [ "$count" -eq 0 ] && [ "$strict" = 1 ]; then
    problem="no API key in $keys_file (one key a line; blank lines and lines starting with # are ignored)"
    return 1
  fi
  if ! mv -f "$map_new" "$map_file"; then
    problem="cannot write the map of keys $map_file"
    return 1
  fi
  rm -f "$entries"
}

# The key file's checksum (what a change is noticed by), or "unreadable".
fingerprint() {
  cksum <"$keys_file" 2>/dev/null || printf 'unreadable\n'
}

if ! load_keys 1; then
  refuse "$problem"
fi
seen=$(fingerprint)
log "$count API key(s) loaded from $keys_file; starting nginx"

nginx -e stderr -c "$nginx_conf" &
nginx_pid=$!
stopping=0
force=0
sleep_pid=""

# shellcheck disable=SC2329  # invoked by the trap below
stop() {
  stopping=1
  kill -QUIT "$nginx_pid" 2>/dev/null || true
}
trap stop TERM QUIT INT
trap 'force=1' HUP

while kill -0 "$nginx_pid" 2>/dev/null; do
  sleep "$reload_interval" &
  sleep_pid=$!
  wait "$sleep_pid" 2>/dev/null || true
  if [ "$stopping" = 1 ]; then
    continue
  fi
  current=$(fingerprint)
  if [ "$current" = "$seen" ] && [ "$force" = 0 ]; then
    continue
  fi
  force=0
  seen=$current
  if ! load_keys 0; then
    log "the API key file changed, but $problem; the keys loaded before stay in force"
    continue
  fi
  if [ "$count" -eq 0 ]; then
    log "the API key file changed and holds no valid key: every request is refused until it has one"
  else
    log "the API key file changed: $count API key(s) loaded, $ignored line(s) ignored; reloading nginx"
  fi
  kill -HUP "$nginx_pid" 2>/dev/null || true
done
if [ -n "$sleep_pid" ]; then
  kill "$sleep_pid" 2>/dev/null || true
fi

status=0
wait "$nginx_pid" || status=$?
exit "$status"
