# The two commands: `make demo` runs the local demo on the embedded broker,
# `make test` runs the whole suite. Both create .venv and install the project
# into it when missing, so a fresh machine needs nothing but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-unit test-integration lint typecheck clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/riskwatch demo

test: $(STAMP)
	bash tests/setup/system-packages.sh
	$(BIN)/ruff check schemas detectors pipeline tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

test-integration: $(STAMP)
	bash tests/setup/system-packages.sh
	$(BIN)/python -m pytest tests/integration

lint: $(STAMP)
	$(BIN)/ruff check schemas detectors pipeline tests
	$(BIN)/ruff format --check schemas detectors pipeline tests

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
