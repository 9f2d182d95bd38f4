# poreflux: two commands on a fresh machine.
#   make demo   create .venv if needed, install poreflux, run the default channel study
#   make test   create .venv if needed, run the default test suite (< 15 min on 2 cores)
#   make test-all   also the tests marked slow
.PHONY: demo test test-all lint bench clean-venv

VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.poreflux-installed
# First Python >= 3.12 on PATH (override with `make PYTHON=/path/to/python3.12 ...`).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	2>/dev/null && { echo $$p; break; }; done)

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  if [ -z "$(PYTHON)" ]; then echo "error: poreflux needs Python >= 3.12 on PATH" >&2; exit 1; fi; \
	  echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[fem,test,ml]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m pnp demo

# Two worker processes (pytest-xdist, one test file per worker at a time) use both cores.
# (Earlier versions ran the suite in two halves because dropped solvers leaked MPI
# communicators; tests/test_petsc_release.py now guards against that.)
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadfile -q

test: $(STAMP)
	$(PYTEST) -m "not slow" tests

test-all: $(STAMP)
	$(PYTEST) tests

lint: $(STAMP)
	$(BIN)/ruff check pnp meshes stochastic tests bench examples

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
