# The README's two commands: `make demo` and `make test`. Each sets itself up, once:
# the demo installs ember with the game's and thespian's extras, the tests add their
# tools (and the benchmarks' peers).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check
DEMO_STAMP := $(VENV)/.installed-demo
STAMP  := $(VENV)/.installed

.PHONY: demo test test-thespian lint typecheck bench clean setup setup-demo

$(BIN)/python:
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing ember and its game and thespian extras into $(VENV)"
	@$(PIP) install -e '.[game,thespian]'
	@touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing ember and its test and benchmark tools into $(VENV)"
	@$(PIP) install -e '.[test,bench,game]'
	@touch $@ $(DEMO_STAMP)

setup: $(STAMP)

setup-demo: $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	@$(BIN)/python -m ember demo

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory test-thespian

# Thespian's own installed test suite (thespian/test) against ember's thespian system base
# (ember.compat.thespian.EmberBase): one pytest process per module, two at a time. Reference
# runs: `$(BIN)/python tests/thespian/conformance/run.py --base multiprocQueueBase`.
test-thespian: $(STAMP)
	$(BIN)/python tests/thespian/conformance/run.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.entities
	$(BIN)/python -m bench.game
	$(BIN)/python -m bench.observability
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.zmq_study
	$(BIN)/python -m bench.thespian_compat
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
