# One command per job on a fresh machine. Every target creates .venv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

PORT ?= 5006

.PHONY: demo test docs browser screenshots lint bench clean clean-cache

$(VENV)/.installed-%: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	touch $@

## Serve the app gallery on http://localhost:$(PORT)/ (every model as a live app).
demo: $(VENV)/.installed-notebook
	$(BIN)/workbench warmup
	$(BIN)/workbench serve --port $(PORT)

## Install, compile the kernels, lint, run the whole test suite (browser tests and tutorial
## notebooks included), and build the documentation.
test: $(VENV)/.installed-test browser
	$(BIN)/workbench warmup
	$(BIN)/ruff check workbench tests benchmarks
	$(BIN)/ruff format --check workbench tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest
	$(MAKE) docs

## Build the documentation site into docs/_build/html (warnings are errors).
docs: $(VENV)/.installed-test
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

## Debian's Chromium for the browser tests (never a downloaded browser); skipped without root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "chromium is missing and apt-get needs root: the browser tests will skip"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver \
	  || echo "could not install chromium: the browser tests will skip"; }

## Screenshots of every app into docs/screenshots (what the gallery and README show).
screenshots: $(VENV)/.installed-test browser
	WORKBENCH_SCREENSHOTS=docs/screenshots WORKBENCH_REQUIRE_BROWSER=1 \
	  $(BIN)/python -m pytest tests/test_browser.py -q -k renders -p no:cacheprovider
	rm -f docs/screenshots/*-tab*.png

## Benchmarks against scipy and libroadrunner, measured in the same run.
bench: $(VENV)/.installed-benchmark
	$(BIN)/python benchmarks/run.py

## Drop numba's cached machine code (after editing a kernel module that others call).
clean-cache:
	find workbench -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV)
