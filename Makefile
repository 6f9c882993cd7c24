# newsbot — set up, test and run. Everything lives in .venv; nothing is installed globally.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build. On a machine without a
# local CPU wheel, add e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu".
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=

.PHONY: install dev test lint run clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed  ## .venv with the `newsbot` command

dev: $(VENV)/.dev-installed  ## .venv with the test and lint tools too

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## ruff, mypy and the whole test suite
	$(BIN)/pytest

run: install  ## ingest examples/, then chat in the terminal (or run the Discord bot when configured)
	$(BIN)/newsbot ingest examples
	$(BIN)/newsbot run --chat-without-token

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
