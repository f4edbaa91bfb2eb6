# One entry point for people and CI. `make synth` and `make test` set everything up on a fresh machine
# (Python 3.11, Node 20, package registries reachable): a venv in .venv and cdk8s-cli in node_modules.

VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# jsii prints an end-of-life banner for Node 20 on every run; the library works with it.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
CRD_DIR ?= ../shared/crds

.PHONY: setup test-tools synth validate plan test schema golden imports clean

setup: $(VENV)/.installed node_modules/.installed
	@# Bytecode for the editable package, as pip writes it for installed ones (and Python may not, under
	@# PYTHONDONTWRITEBYTECODE): the generated CRD bindings are megabytes of source that every synth worker
	@# would otherwise compile, costing time and about 30 MiB each. Up-to-date files are skipped.
	$(PY) -m compileall -q ollama_constructs imports >/dev/null

## What the test suite runs besides Python: nginx (the auth proxy test), checkov in its own venv.
test-tools:
	bash scripts/install-test-tools.sh
	bash scripts/install-checkov.sh

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Synthesize catalog/ into dist/ with cdk8s-cli (which runs main.py).
synth: setup
	cdk8s synth --no-check-upgrade

validate: setup
	$(PY) -m ollama_constructs validate

plan: setup
	$(PY) -m ollama_constructs plan

## Every test: unit, golden, schema and CEL validation, shell scripts, drift of dist/ and the schema.
test: setup test-tools
	$(PY) -m pytest

## Rewrite the committed leaf JSON schema and the golden files from the code (review the diff!).
schema: setup
	$(PY) -m ollama_constructs schema > schema/catalog-leaf.schema.json

golden: setup
	OLLAMA_CONSTRUCTS_UPDATE_GOLDEN=1 $(PY) -m pytest tests/test_golden.py -q

## Regenerate imports/ from the CRD files (one API group per import).
imports: node_modules/.installed
	bash scripts/import-crds.sh $(CRD_DIR)

clean:
	rm -rf $(VENV) .venv-checkov node_modules .cdk8s-staging .pytest_cache
