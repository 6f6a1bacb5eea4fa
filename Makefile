# Two commands do everything on a fresh clone:
#   make synth   set up, then synthesize the whole example organization into cdk.out
#   make test    set up, then run linters, type checks and the full test suite
# Select your own organization with CONFIG=path/to/org.yaml (see README), and run every
# gate on it with `make check CONFIG=path/to/org.yaml`.

PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin

# Node.js 24 from the virtualenv (the system Node may be end-of-life); no AWS calls:
# no credentials from instance metadata, no CLI notices, version check or telemetry.
export PATH := $(BIN):$(PATH)
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_VERSION_CHECK := true
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := true
# Node.js keeps the compiled CDK CLI and jsii runtime here between runs.
export NODE_COMPILE_CACHE ?= $(abspath .cache/node-compile)

# Quoted, so a path with spaces stays one argument.
CONFIG_ARG := $(if $(CONFIG),--config "$(CONFIG)")
# `make synth PATTERNS=network,streaming`: only those patterns and what they depend on.
PATTERNS_ARG := $(if $(PATTERNS),--patterns "$(PATTERNS)")

.PHONY: setup setup-dev synth check plan bootstrap-commands test lint snapshot-update docs bench lock clean \
	deploy-sandbox destroy-sandbox flink-connector flink-connector-check

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip==25.3

$(VENV)/.runtime: $(VENV)/bin/python requirements.txt constraints.txt
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.runtime
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.runtime node_modules/.installed
setup-dev: setup $(VENV)/.dev

# Validates the config first and replaces cdk.out only after a synth that passed its gates.
synth: setup
	$(BIN)/python -m tools.synth $(CONFIG_ARG) $(PATTERNS_ARG)

# Every gate of the test suite, on the organization in CONFIG (or ORG_CONFIG).
check: setup-dev
	$(BIN)/python -m tools.check $(CONFIG_ARG)

# The deployment plan of the organization in CONFIG: waves of stacks, what each waits for,
# its manual prerequisites and bootstrap; then the bootstrap commands.
plan: setup-dev
	$(BIN)/python -m tools.plan $(CONFIG_ARG)

# The exact `cdk bootstrap` command of every account and region, in the order to run them.
bootstrap-commands: setup-dev
	$(BIN)/python -m tools.plan --bootstrap-commands $(CONFIG_ARG)

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The type check runs beside the tests: a cold mypy cache spends most of two minutes
# reading the aws-cdk-lib type information, time the tests would otherwise wait for.
test: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy > .mypy.log 2>&1 & types=$$!; \
	$(BIN)/python -m pytest; tests=$$?; \
	wait $$types; typed=$$?; cat .mypy.log; rm -f .mypy.log; \
	test $$tests -eq 0 && test $$typed -eq 0

# The workload patterns in one sandbox account, with your own credentials:
#   make deploy-sandbox ACCOUNT=123456789012 REGION=eu-west-1 [DR_REGION=eu-central-1]
#        [PATTERNS=object-index,streaming,network,disaster-recovery] [BUDGET=50] [EMAIL=you@example.com]
#        [DRY_RUN=1] [YES=1] [CONFIG=base.yaml]
#   make destroy-sandbox ACCOUNT=... REGION=... (the same values) [DRY_RUN=1] [YES=1]
SANDBOX_ARGS = --account "$(ACCOUNT)" --region "$(REGION)" \
	$(if $(DR_REGION),--dr-region "$(DR_REGION)") $(if $(PATTERNS),--patterns "$(PATTERNS)") \
	$(if $(BUDGET),--budget "$(BUDGET)") $(if $(EMAIL),--email "$(EMAIL)") $(CONFIG_ARG) \
	$(if $(DRY_RUN),--dry-run) $(if $(YES),--yes)

deploy-sandbox: setup-dev
	$(BIN)/python -m tools.sandbox deploy $(SANDBOX_ARGS)

destroy-sandbox: setup-dev
	$(BIN)/python -m tools.sandbox destroy $(SANDBOX_ARGS)

snapshot-update: setup-dev
	$(BIN)/python -m pytest tests/gates -k snapshot --snapshot-update

# Rewrite the generated sections of docs/patterns/*.md from a fresh synth of the example
# organization: the pages document the example, whatever CONFIG or ORG_CONFIG say.
docs: setup-dev
	$(if $(CONFIG),$(error make docs documents the example organization; run it without CONFIG))
	env -u ORG_CONFIG $(BIN)/python -m tools.synth
	$(BIN)/python -m tools.docs cdk.out

bench: setup-dev
	$(BIN)/python tools/bench.py

# Re-pin every package after changing requirements*.txt (read the snapshot diff after).
lock: $(VENV)/bin/python
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -r requirements-dev.txt
	( sed -n '1,2p' constraints.txt; .lock-venv/bin/python -m pip freeze ) > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .lock-venv

# The Flink application's Kinesis connector JAR (pinned version and SHA-256, from Maven
# Central); every deploy of the streaming pipeline runs the check first and stops without it.
flink-connector: $(VENV)/bin/python
	$(VENV)/bin/python -m flink.connector_jar fetch

flink-connector-check: $(VENV)/bin/python
	$(VENV)/bin/python -m flink.connector_jar check

clean:
	rm -rf cdk.out cdk.out.staging cdk.out.previous cdk.out.sandbox .pytest_cache .mypy_cache .ruff_cache
