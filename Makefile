# govex — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOME_DIR ?= govex-data
PORT   ?= 8080

.PHONY: demo test quick system-deps install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/govex demo --home $(HOME_DIR) --port $(PORT)

# Every test on SQLite, then those that store anything again on a throwaway PostgreSQL
# cluster. First the system packages the tests need (Chromium, a CJK font, PostgreSQL's server
# programs, a Java 17+ runtime for Spark): installed when run as root with apt, else one line
# says what to install.
test: system-deps lint
	$(PY) -m pytest -q
	$(PY) -m pytest -q --database postgresql

# The inner loop: SQLite only, without the browser and end-to-end server tests.
quick: $(STAMP)
	$(PY) -m pytest -q -x --ignore=tests/e2e

system-deps:
	@scripts/system-deps

# Style (pycodestyle, pyflakes, isort; config in pyproject.toml). Part of `make test`.
lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The figures in the README. masking.py at 1M rows takes ~12 minutes on 2 cores; publish.py
# ~10 minutes and ~8 GB of temporary disk; spark.py at 1M rows ~8 minutes.
bench: $(STAMP) system-deps
	$(PY) -m pip install --quiet -e '.[test,bench,spark]'
	$(PY) benchmarks/authz.py
	$(PY) benchmarks/accuracy.py
	$(PY) -m benchmarks.audit
	$(PY) benchmarks/delivery.py --rows 1000000
	$(PY) benchmarks/publish.py --rows 21000000 --anchor-rows 1000000 --repeat 3
	$(PY) benchmarks/masking.py --rows 1000000
	$(PY) benchmarks/spark.py --rows 1000000

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache
