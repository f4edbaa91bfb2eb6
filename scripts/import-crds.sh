#!/usr/bin/env bash
# Regenerate imports/ (typed CRD bindings) from the pinned CRD files, one API group per `cdk8s import`.
# Usage: scripts/import-crds.sh CRD_DIR   (`make imports` verifies CRD_DIR against crds/lock.json first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
crd_dir=${1:?usage: scripts/import-crds.sh CRD_DIR (a directory of the files crds/lock.json pins)}
python3 scripts/crds.py verify "$crd_dir" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

import_group() {  # import_group PREFIX GLOB...
  local prefix=$1 bundle="$work/$1.yaml" file
  shift
  : >"$bundle"
  for file in "$@"; do
    cat "$file" >>"$bundle"
    printf '\n---\n' >>"$bundle"
  done
  rm -rf "imports/$prefix"
  cdk8s import "$prefix:=$bundle" --language python --output imports --no-check-upgrade --no-save
}

# Only the kinds the library emits: every generated binding is Python the renderer imports (and
# memory each worker holds), so GatewayClass, GRPCRoute, ClusterIssuer and KEDA's ScaledObject
# stay out.
import_group gatewayapi "$crd_dir"/gateway.networking.k8s.io_{gateways,httproutes,referencegrants}.yaml
import_group certmanager "$crd_dir"/cert-manager.io_{certificates,issuers}.yaml
import_group kedahttp "$crd_dir"/http.keda.sh_httpscaledobjects.yaml
import_group argocd "$crd_dir"/argoproj.io_applications.yaml
