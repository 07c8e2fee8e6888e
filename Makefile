# Two commands do everything on a fresh machine: `make preflight` and `make test`.
# Each creates .venv and installs the pinned requirements on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev

.PHONY: venv preflight test bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

## Offline preview of a stack (STACK=dev|prod): program under mocks, policy pack, cost.
preflight: venv
	$(PY) -m preflight $(STACK)

## Unit, component, whole-program and policy tests.
test: venv
	$(PY) -m pytest

## Speed figures reported in README.md.
bench: venv
	$(PY) benchmarks/preflight_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
