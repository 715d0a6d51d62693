# daserver-check — every target sets up what it needs from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The demo needs only the runtime dependencies: a new user waits seconds, not a minute.
RUNTIME_STAMP := $(VENV)/.runtime-stamp

.PHONY: demo test lint bench sysdeps clean e2e fuzz tables

$(RUNTIME_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP) pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,lint]'
	touch $(STAMP)

sysdeps:
	@bash scripts/install-system-deps.sh

## make demo: a healthy and a faulty probe of the built-in lab endpoint
demo: $(RUNTIME_STAMP)
	$(BIN)/python scripts/demo.py

## make test: the whole test suite (installs what the tests need first)
test: sysdeps $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check daserver_check tests scripts
	$(BIN)/mypy

## make e2e (not CI): a real Prometheus server scrapes the exporter probing the lab
e2e: $(STAMP)
	bash scripts/e2e.sh

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

## make fuzz: the long fuzzing run (hypothesis with many examples; atheris when it installs)
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz.py

## make tables: refresh the finding tables in README.md and docs/ from daserver_check/findings.py
tables: $(STAMP)
	$(BIN)/python scripts/findings_tables.py
