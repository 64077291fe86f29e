# One command to set up and run, one to test; CI (.ci/run) runs the same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAM_VENV ?= .venv-sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV ?= .venv-checkov
# Lambda's runtime on this machine (make build-local), for the deep tier's one smoke test of the built
# artifact under aws-lambda-rie: the function built for this machine's platform, and python3.13 with
# the runtime interface client and the runtime's boto3 (requirements-runtime.txt).
RUNTIME_VENV ?= .venv-runtime
LOCAL_BUILD ?= .aws-sam/local
HOST_PLATFORM ?= manylinux2014_$(shell uname -m)
# python3.13 as CI finds it: on PATH, or pyenv's newest 3.13 (.ci/python3.13.sh).
WITH_PYTHON313 := . .ci/python3.13.sh &&
# aws-lambda-rie on PATH, or named by AWS_LAMBDA_RIE: then the deep tier's smoke test runs the built function under it.
RIE = $(or $(AWS_LAMBDA_RIE),$(shell command -v aws-lambda-rie 2>/dev/null))
HAS_PYTHON313 = $(shell $(WITH_PYTHON313) python3.13 --version 2>/dev/null)
# What that smoke test needs; nothing when RIE or python3.13 is missing (it skips, and says so).
RUNTIME_IF_AVAILABLE = $(if $(RIE),$(if $(HAS_PYTHON313),build-local))
export SAM_CLI_TELEMETRY := 0
# make deploy's first step: the credentials work and the region is known, before anything is built.
DEPLOY_CHECK ?= $(SAM_VENV)/bin/python .ci/deploy_check.py
UPGRADE ?= --upgrade
LOCK = $(BIN)/uv pip compile --quiet $(UPGRADE) --generate-hashes --no-strip-extras

.PHONY: help smoke demo serve test test-deep test-e2e coverage load bench lint typecheck validate scan check build build-local deploy check-artifact check-workflows schema check-schema update-deps clean

# A bare `make` lists the targets: each `## target: what it does` line below.
.DEFAULT_GOAL := help

## help: this list
help:
	@echo "make <target>, one of:"
	@sed -n 's/^## \([a-z0-9-]*\): /\1\t/p' $(firstword $(MAKEFILE_LIST)) | \
		awk -F '\t' '{ printf "  %-16s %s\n", $$1, $$2 }'

# Each virtual environment holds exactly its lock (requirements*.txt: every package pinned, with its
# hashes), rebuilt from empty whenever the lock changes; `pip check` proves the lock is complete.
$(BIN)/.installed: requirements-dev.txt
	@echo "Installing $(VENV): the code, tests and tools, from requirements-dev.txt (a minute or two; again only when the lock changes)"
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.txt
	$(BIN)/pip check --disable-pip-version-check
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@echo "Installing $(SAM_VENV): the SAM CLI and cfn-lint, from requirements-sam.txt (a minute or two; again only when the lock changes)"
	$(PYTHON) -m venv --clear $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-sam.txt
	$(SAM_VENV)/bin/pip check --disable-pip-version-check
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@echo "Installing $(CHECKOV_VENV): checkov, from requirements-checkov.txt (a minute or two; again only when the lock changes)"
	$(PYTHON) -m venv --clear $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-checkov.txt
	$(CHECKOV_VENV)/bin/pip check --disable-pip-version-check
	touch $@

$(RUNTIME_VENV)/.installed: requirements-runtime.txt
	@echo "Installing $(RUNTIME_VENV): Lambda's python3.13 runtime, from requirements-runtime.txt (about 10 s)"
	$(WITH_PYTHON313) python3.13 -m venv --clear $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary=:all: \
		-r requirements-runtime.txt
	$(RUNTIME_VENV)/bin/pip check --disable-pip-version-check
	touch $@

# The artifact src/Makefile builds for Lambda, built by the same recipe for this machine's platform.
$(LOCAL_BUILD)/.built: src/Makefile src/requirements.txt $(shell find src/zenoti_receiver -name '*.py')
	rm -rf $(LOCAL_BUILD)/function && mkdir -p $(LOCAL_BUILD)/function
	$(WITH_PYTHON313) $(MAKE) -C src build-ReceiverFunction PLATFORM=$(HOST_PLATFORM) \
		ARTIFACTS_DIR="$(CURDIR)/$(LOCAL_BUILD)/function"
	touch $@

## build-local: the function built for this machine (the deployed one is arm64) and .venv-runtime, for the smoke test under aws-lambda-rie
build-local: $(LOCAL_BUILD)/.built $(RUNTIME_VENV)/.installed

# One sample of each family (events/README.md), in the catalog's order: devtools/local_stack/__main__.py FAMILY, which
# serve's banner sends.
FAMILY := booking_deleted class_schedule_created guest_created guest_membership_created guest_pass_redeemed guest_package_creation appointment_started appointment_group_created employee_created invoice_closed

## demo: run the receiver locally (moto, no AWS account, no Docker) on one sample event of each family
demo: $(BIN)/.installed
	$(BIN)/python -m devtools.local_stack invoke $(foreach sample,$(FAMILY),events/apigw_$(sample).json)

## serve: the webhook on http://127.0.0.1:3000 backed by an AWS emulator; SERVE_ARGS="--port 8000" to change
serve: $(BIN)/.installed
	$(BIN)/python -m devtools.local_stack serve $(SERVE_ARGS)

# COVERAGE=1 (CI): the test targets add what they cover to .coverage, and `make coverage` checks the sum
# against the floor, once (not each tier alone), so no suite runs twice. Without it they run as fast as ever.
PYTEST_COVERAGE = $(if $(COVERAGE),--cov --cov-append --cov-report= --cov-fail-under=0)

## test: the test suite, without the deep tier, on every core (a test file stays in one process)
test: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not deep" -n auto --dist loadfile $(PYTEST_COVERAGE)

## test-deep: the deep tier (thousands of deliveries, a 5,000-event backlog, load, concurrency, the artifact in Lambda's runtime), which CI runs
test-deep: $(BIN)/.installed $(RUNTIME_IF_AVAILABLE)
	$(BIN)/python -m pytest -m deep $(PYTEST_COVERAGE)

## test-e2e: a running stack over HTTP: E2E_LOCAL=http://127.0.0.1:3000 (make serve) or E2E_STACK_NAME=<stack>
test-e2e:
	@if [ -z "$(E2E_LOCAL)$(E2E_STACK_NAME)" ]; then \
		echo "make test-e2e needs the stack to test:" >&2; \
		echo "  make test-e2e E2E_LOCAL=http://127.0.0.1:3000              (make serve running in another terminal)" >&2; \
		echo "  make test-e2e E2E_STACK_NAME=<stack> AWS_REGION=<region>   (a deployed stack, SubscriberQueue=true)" >&2; \
		exit 2; \
	fi
	@$(MAKE) -s --no-print-directory $(BIN)/.installed
	$(BIN)/python -m pytest tests/e2e

## coverage: what the test targets run with COVERAGE=1 covered, against the floor in pyproject.toml
coverage: $(BIN)/.installed
	$(BIN)/coverage report

## load: 2,000 distinct events from 8 concurrent senders over the local HTTP stack; LOAD_ARGS to change
load: $(BIN)/.installed
	$(BIN)/python -m devtools.local_stack.load $(LOAD_ARGS)

## bench: what an event costs (each function's cold start, warm latency, CPU, AWS calls, write units, cost), one table
bench: $(BIN)/.installed
	$(BIN)/python -m devtools.bench $(BENCH_ARGS)

## lint: ruff, lint and format
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## typecheck: mypy, strict
typecheck: $(BIN)/.installed
	$(BIN)/mypy

# The linters judge a template at its defaults: a copy with every optional feature on is judged too.
OPTIONS_ON := .aws-sam/template-options-on.yaml
$(OPTIONS_ON): template.yaml .ci/template_with_options_on.py
	mkdir -p $(dir $@)
	$(PYTHON) .ci/template_with_options_on.py > $@

## validate: sam validate --lint and cfn-lint with the serverless rules: the stack (defaults and every option on), the subscriber example, the deploy roles
validate: $(SAM_VENV)/.installed $(OPTIONS_ON)
	@echo "Validating 4 templates: sam validate --lint, then cfn-lint (about 15 s)"
	$(SAM) validate --lint
	$(SAM) validate --lint --template $(OPTIONS_ON)
	$(SAM) validate --lint --template examples/subscriber/template.yaml
	$(SAM_VENV)/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- \
		template.yaml $(OPTIONS_ON) examples/subscriber/template.yaml .github/aws/deploy-roles.yaml

## scan: checkov on the templates (the stack with every option on too); every skipped check carries its reason next to the resource
scan: $(CHECKOV_VENV)/.installed $(OPTIONS_ON)
	@echo "Scanning 4 templates with checkov (about 15 s; it prints the sum at the end)"
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --file $(OPTIONS_ON) --file examples/subscriber/template.yaml \
		--file .github/aws/deploy-roles.yaml --framework cloudformation --skip-download --compact --quiet

## build: the deployable artifact (needs python3.13, like the Lambda runtime: on PATH, or pyenv's newest 3.13)
build: $(SAM_VENV)/.installed
	$(WITH_PYTHON313) $(SAM) build

## deploy: check the AWS credentials and region, build, then sam deploy with samconfig.toml's settings; DEPLOY_ARGS adds options, kept for the next deploy
# Nothing to answer: the template's defaults; the region is AWS_REGION's or the AWS profile's (asked once
# and saved in samconfig.toml when neither has one). --save-params writes what DEPLOY_ARGS gave (parameter
# overrides above all) into samconfig.toml, so that the next `make deploy` without them keeps them.
deploy: $(SAM_VENV)/.installed
	@region=$$($(DEPLOY_CHECK)) && \
		$(MAKE) --no-print-directory build && \
		echo "$(SAM) deploy --region $$region --save-params $(DEPLOY_ARGS)" && \
		$(SAM) deploy --region "$$region" --save-params $(DEPLOY_ARGS)

## smoke: after a deploy, one made-up event delivered to the stack's URL, found stored, seen published; SMOKE_ARGS="--stack-name ..."
smoke: $(BIN)/.installed
	$(BIN)/python -m ops smoke $(SMOKE_ARGS)

## check-artifact: the artifact is reproducible: built again from empty, every file is the same
check-artifact: build
	rm -rf .aws-sam/rebuild && mkdir -p .aws-sam/rebuild
	$(WITH_PYTHON313) $(MAKE) -C src build-ReceiverFunction PYTHON=python3.13 ARTIFACTS_DIR="$(CURDIR)/.aws-sam/rebuild"
	$(PYTHON) .ci/compare_artifacts.py .aws-sam/build/ReceiverFunction .aws-sam/rebuild

## check-workflows: the GitHub workflows and Dependabot's settings: zizmor (offline) and their schemas
check-workflows: $(BIN)/.installed
	$(BIN)/zizmor --offline --persona pedantic .github/
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml

## schema: write the published contracts (schema/*.schema.json) from the models
schema: $(BIN)/.installed
	PYTHONPATH=src $(BIN)/python -m devtools.contracts

## check-schema: the committed contracts are what the models give, and every sample body matches its family's schema
check-schema: $(BIN)/.installed
	PYTHONPATH=src $(BIN)/python -m devtools.contracts --check
	$(BIN)/check-jsonschema --schemafile schema/class-booking.v1.schema.json $(foreach type,created cancelled deleted approved no_show rejected,events/booking_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/class-schedule.v1.schema.json $(foreach type,created updated cancelled deleted,events/class_schedule_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/guest.v1.schema.json $(foreach type,created updated deleted merged opted_out opted_in,events/guest_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/guest-membership.v1.schema.json $(foreach type,created freeze unfreeze cancelled reinstate,events/guest_membership_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/guest-pass.v1.schema.json $(foreach type,redeemed,events/guest_pass_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/guest-package.v1.schema.json $(foreach type,creation redemption redemption_reversal status_update validity_update,events/guest_package_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/appointment.v1.schema.json $(foreach type,started completed,events/appointment_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/appointment-group.v1.schema.json $(foreach type,created status,events/appointment_group_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/employee.v1.schema.json $(foreach type,created updated deleted,events/employee_$(type).json)
	$(BIN)/check-jsonschema --schemafile schema/invoice.v1.schema.json $(foreach type,closed,events/invoice_$(type).json)

## update-deps: re-lock every requirements*.in at the newest versions it allows (all transitive, with hashes)
# The function's lock is resolved for Lambda (python3.13, arm64) and comes first: the development lock
# takes the function's versions from it; it carries the hashes of every platform's wheels, so
# make build-local installs it for this machine too. The runtime's lock is for python3.13; the others
# hold for every Python from 3.11 up.
# After editing a requirements*.in, `make update-deps UPGRADE=` re-locks it and moves nothing else.
update-deps: $(BIN)/.installed
	$(LOCK) --python-platform aarch64-manylinux2014 --python-version 3.13 src/requirements.in --output-file src/requirements.txt
	$(LOCK) --universal --python-version 3.11 requirements-dev.in --output-file requirements-dev.txt
	$(LOCK) --universal --python-version 3.11 requirements-sam.in --output-file requirements-sam.txt
	$(LOCK) --universal --python-version 3.11 requirements-checkov.in --output-file requirements-checkov.txt
	$(LOCK) --universal --python-version 3.13 requirements-runtime.in --output-file requirements-runtime.txt
	# The example subscriber's locks, at the versions just locked here (its tests check they agree).
	$(MAKE) -C examples/subscriber update-deps UV=$(CURDIR)/$(BIN)/uv UPGRADE="$(UPGRADE)"

## check: lint, typecheck, validate, scan, check-workflows, check-schema and test, in a row
check: lint typecheck validate scan check-workflows check-schema test

## clean: remove the virtual environments, build output and caches (the example's too)
clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(RUNTIME_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache \
		.hypothesis .coverage examples/subscriber/.aws-sam examples/subscriber/.pytest_cache
