# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-fast lint bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,s3]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m entra_backup.cli.main demo

test: $(STAMP)
	@bash tools/ensure_postgres.sh
	$(PY) -m pytest -q -p no:cacheprovider

# Everything but the tests marked slow (each over about 10 s): the quick loop while editing.
test-fast: $(STAMP)
	@bash tools/ensure_postgres.sh
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench tools docs
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache
