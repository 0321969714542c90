# Two commands a newcomer needs: `make demo` and `make test`. Both set up a virtual environment first, installing
# from the lock files (hash-checked) once: again only when pyproject.toml or the lock file changes.
# `make lock` regenerates the lock files after a change of dependencies in pyproject.toml (needs PyPI).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# uv resolves for another Python and platform than the one running it (pip-tools can't), and writes hashes
UV_VERSION ?= 0.13.9
# What the lock files are for: the Docker image (python:3.11-slim) and CI (Python 3.11, Linux x86_64)
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	--custom-compile-command "make lock" --quiet
# The build backend is locked too, so the project installs with --no-build-isolation and nothing unpinned
BUILD_REQUIRES := import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")
INSTALL := $(BIN)/python -m pip install --quiet
# the project itself, editable, with the locked setuptools (-qq: setuptools' notice about editable installs)
INSTALL_PROJECT := $(INSTALL) --quiet --no-deps --no-build-isolation -e .

.PHONY: setup demo test lint lock lock-upgrade i18n-update i18n-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(INSTALL) --upgrade pip

# the demo gets the runtime set only; the tests the runtime set plus the test tools
$(VENV)/.installed-run: requirements.lock pyproject.toml | $(BIN)/python
	$(INSTALL) --require-hashes -r requirements.lock
	$(INSTALL_PROJECT)
	touch $@

$(VENV)/.installed-test: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(INSTALL) --require-hashes -r requirements-dev.lock
	$(INSTALL_PROJECT)
	touch $@ $(VENV)/.installed-run

setup: $(VENV)/.installed-test

demo: $(VENV)/.installed-run
	$(BIN)/python -m bot demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n auto

$(BIN)/uv: | $(BIN)/python
	$(INSTALL) uv==$(UV_VERSION)

# Keeps the versions already locked and resolves what pyproject.toml changed (newest releases for new entries);
# the runtime set first, then the test set constrained to it, so CI tests exactly what the image runs.
lock: | $(BIN)/uv
	$(BIN)/python -c '$(BUILD_REQUIRES)' | $(BIN)/uv pip compile pyproject.toml - $(LOCK_FLAGS) $(UPGRADE) \
		-o requirements.lock
	$(BIN)/python -c '$(BUILD_REQUIRES)' | $(BIN)/uv pip compile pyproject.toml - --extra test \
		-c requirements.lock $(LOCK_FLAGS) $(UPGRADE) -o requirements-dev.lock

# Translations (bot/i18n/TRANSLATING.md): the template from the code's texts, merged into every language's catalog
# and label file (new entries empty, changed ones fuzzy); i18n-check only says whether that is needed.
i18n-update: $(VENV)/.installed-run
	$(BIN)/python -m bot.i18n.extract

i18n-check: $(VENV)/.installed-run
	$(BIN)/python -m bot.i18n.extract --check

# Every locked package at its newest release
lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade
