# One command per job on a fresh machine. Every target creates .venv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean clean-cache

$(VENV)/.installed-%: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	touch $@

## Simulate models and print summaries (the app gallery will be served here).
demo: $(VENV)/.installed-notebook
	$(BIN)/workbench warmup
	$(BIN)/workbench demo

## Install, compile the kernels, lint, and run the whole test suite.
test: $(VENV)/.installed-test
	$(BIN)/workbench warmup
	$(BIN)/ruff check workbench tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

## Benchmarks against scipy and libroadrunner, measured in the same run.
bench: $(VENV)/.installed-benchmark
	$(BIN)/python benchmarks/run.py

## Drop numba's cached machine code (after editing a kernel module that others call).
clean-cache:
	find workbench -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV)
