# One command to set up and run, one to test; CI (.ci/run) runs the same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAM_VENV ?= .venv-sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV ?= .venv-checkov
export SAM_CLI_TELEMETRY := 0

.PHONY: demo serve test test-deep load bench lint typecheck validate scan check build clean

$(BIN)/.installed: requirements-dev.txt src/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

## demo: run the receiver locally (moto, no AWS account, no Docker) on the sample event
demo: $(BIN)/.installed
	$(BIN)/python -m local_stack invoke events/apigw_booking_deleted.json

## serve: the webhook on http://127.0.0.1:3000 backed by an AWS emulator; SERVE_ARGS="--port 8000" to change
serve: $(BIN)/.installed
	$(BIN)/python -m local_stack serve $(SERVE_ARGS)

## test: the test suite, without the deep tier
test: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not deep"

## test-deep: the deep tier (thousands of deliveries, load, concurrency), which CI runs every time
test-deep: $(BIN)/.installed
	$(BIN)/python -m pytest -m deep

## load: 2,000 distinct events from 8 concurrent senders over the local HTTP stack; LOAD_ARGS to change
load: $(BIN)/.installed
	$(BIN)/python -m local_stack.load $(LOAD_ARGS)

## bench: what a webhook costs (cold start, warm latency, CPU, AWS calls, package size), one table
bench: $(BIN)/.installed
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

## validate: sam validate --lint and cfn-lint with the serverless rules (the receiver's and the subscriber example's)
validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint
	$(SAM) validate --lint --template examples/subscriber/template.yaml
	$(SAM_VENV)/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml examples/subscriber/template.yaml

## scan: checkov on the templates; every skipped check carries its reason next to the resource
scan: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --file examples/subscriber/template.yaml \
		--framework cloudformation --skip-download --compact --quiet

## build: the deployable artifact (needs python3.13 on PATH, like the Lambda runtime)
build: $(SAM_VENV)/.installed
	$(SAM) build

check: lint typecheck validate scan test

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
