#!/usr/bin/env bash
# Install checkov (the manifest security scanner the tests run) into its own venv, .venv-checkov at the
# repo root. Never into .venv: checkov pins ~100 packages (pydantic, jsonschema, PyYAML, ...) that would
# clash with the library's pins.
#
# Usage: scripts/install-checkov.sh
# Environment:
#   CHECKOV_VENV     where the venv goes (default: <repo>/.venv-checkov)
#   CHECKOV_PYTHON   the interpreter that creates it (default: python3)
# Idempotent: exits at once when $CHECKOV_VENV/bin/checkov --version already prints the pinned version.
# A fresh install takes about 15-30 s and 290 MB; the venv is rebuilt from scratch when the version differs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHECKOV_VERSION=3.3.30
venv=${CHECKOV_VENV:-$PWD/.venv-checkov}
python=${CHECKOV_PYTHON:-python3}

installed_version() {
  # checkov prints its version as the only line of `--version`; empty when it is missing or broken.
  "$venv/bin/checkov" --version 2>/dev/null | tail -n 1 || true
}

if [[ -x $venv/bin/checkov && $(installed_version) == "$CHECKOV_VERSION" ]]; then
  echo "checkov $CHECKOV_VERSION is already installed in $venv"
  exit 0
fi

echo "installing checkov $CHECKOV_VERSION into $venv"
start=$SECONDS
# Start from scratch: a venv left by an interrupted install, or holding another version, is removed.
# (An interrupted install cannot pass the check above: its checkov is missing or fails to import.)
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"

got=$(installed_version)
if [[ $got != "$CHECKOV_VERSION" ]]; then
  echo "install-checkov: expected checkov $CHECKOV_VERSION, but '$venv/bin/checkov --version' printed '${got:-nothing}'" >&2
  exit 1
fi
echo "checkov $CHECKOV_VERSION installed in $venv in $((SECONDS - start))s"
