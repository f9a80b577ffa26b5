# Картотека — the two commands that matter are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
export KARTOTEKA_DATA_DIR ?= $(CURDIR)/var
# mypy's cache lives outside the work tree: a fresh clone (CI) on a machine that has checked the
# code before starts warm (a cold check takes most of `make lint`; mypy re-checks what changed).
MYPY_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kartoteka/mypy

.PHONY: install run test lint fmt bench messages clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/kartoteka run

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/kartoteka manage check
	$(BIN)/kartoteka manage makemigrations --check --dry-run
	$(BIN)/mypy --cache-dir "$(MYPY_CACHE)" src/kartoteka/core src/kartoteka/tables src/kartoteka/records src/kartoteka/api src/kartoteka/imports

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	cd src/kartoteka && DJANGO_SETTINGS_MODULE=kartoteka.config.settings ../../$(BIN)/django-admin makemessages -l en -l ru --ignore '*/migrations/*' --no-obsolete
	cd src/kartoteka && DJANGO_SETTINGS_MODULE=kartoteka.config.settings ../../$(BIN)/django-admin compilemessages -l en -l ru

# BENCH_ROWS=100000 make bench for a quick run; the targets are stated for 1,000,000.
BENCH_ROWS ?= 1000000
bench: install
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/grid.py --rows $(BENCH_ROWS)
	$(BIN)/python benchmarks/funnel.py --rows $(BENCH_ROWS)
	$(BIN)/python benchmarks/imports.py --rows $(BENCH_ROWS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
