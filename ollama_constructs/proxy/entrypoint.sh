#!/bin/sh
# Entrypoint of ApiKeyProxy's nginx container (POSIX sh: the Alpine nginx image has busybox sh, no bash).
#
# nginx cannot read a list of keys by itself. This script turns the key file (one key a line; blank
# lines and lines starting with '#' are ignored) into the nginx `map` include that nginx.conf reads,
# then replaces itself with nginx in the foreground. It refuses to start, with a message on stderr, when
# the file cannot be read, holds no key, or holds a key that is not 16 to 256 characters out of
# A-Z a-z 0-9 . _ ~ + / = -. Keys are never printed nor passed as arguments; the map is written with
# mode 0600.
#
# The keys are read once, at start: restart the pods after changing the Secret.
#
# Environment (the construct sets all three):
#   OLLAMA_AUTH_KEYS_FILE   the key file (the Secret's key, mounted read-only)
#   OLLAMA_AUTH_MAP_FILE    the map include to write (nginx.conf includes this path)
#   OLLAMA_AUTH_NGINX_CONF  the nginx.conf to run
set -eu
LC_ALL=C
export LC_ALL

keys_file=${OLLAMA_AUTH_KEYS_FILE:?OLLAMA_AUTH_KEYS_FILE is not set}
map_file=${OLLAMA_AUTH_MAP_FILE:?OLLAMA_AUTH_MAP_FILE is not set}
nginx_conf=${OLLAMA_AUTH_NGINX_CONF:?OLLAMA_AUTH_NGINX_CONF is not set}

MIN_KEY_LENGTH=16
MAX_KEY_LENGTH=256

log() {
  printf 'ollama-auth: %s\n' "$*" >&2
}

refuse() {
  log "refusing to start: $*"
  exit 1
}

if [ ! -f "$keys_file" ] || [ ! -r "$keys_file" ]; then
  refuse "cannot read the API key file $keys_file (is the Secret mounted, and does it have the key?)"
fi

umask 077
entries="$map_file.entries.$$"
trap 'rm -f "$entries" "$map_file.new.$$"' EXIT
: >"$entries"

cr=$(printf '\r')
tab=$(printf '\t')
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
  case $key in
    "" | "#"*) continue ;;
    *[!A-Za-z0-9._~+/=-]*)
      refuse "line $line_no of $keys_file: a key may hold only A-Z a-z 0-9 . _ ~ + / = - (the key is not shown)"
      ;;
  esac
  if [ "${#key}" -lt "$MIN_KEY_LENGTH" ]; then
    refuse "line $line_no of $keys_file: a key must have at least $MIN_KEY_LENGTH characters (the key is not shown)"
  fi
  if [ "${#key}" -gt "$MAX_KEY_LENGTH" ]; then
    refuse "line $line_no of $keys_file: a key may have at most $MAX_KEY_LENGTH characters (the key is not shown)"
  fi
  printf '%s\n' "$key" >>"$entries"
done <"$keys_file"

# One exact, case-sensitive regex per key (nginx matches plain map strings in any case); `.` and `+` are
# the only characters of the allowed set that a regex treats specially. A key listed twice counts once.
sort -u "$entries" | sed -e 's/[.+]/\\&/g' -e 's/.*/"~^key:&$" 1;/' >"$map_file.new.$$"
count=$(wc -l <"$map_file.new.$$" | tr -d ' ')
if [ "$count" -eq 0 ]; then
  refuse "no API key in $keys_file (one key a line; blank lines and lines starting with # are ignored)"
fi
mv -f "$map_file.new.$$" "$map_file"
rm -f "$entries"
trap - EXIT

log "$count API key(s) loaded from $keys_file; starting nginx"
exec nginx -e stderr -c "$nginx_conf"
