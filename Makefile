# govex — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOME_DIR ?= govex-data
PORT   ?= 8080

.PHONY: demo test install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/govex demo --home $(HOME_DIR) --port $(PORT)

# Every test on SQLite, then those that store anything again on a throwaway PostgreSQL
# cluster (needs PostgreSQL's server programs: Debian's postgresql package; .ci/run installs it).
test: $(STAMP)
	$(PY) -m pytest -q
	$(PY) -m pytest -q --database postgresql

# The figures in the README. masking.py at 1M rows takes ~12 minutes on 2 cores.
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) benchmarks/authz.py
	$(PY) benchmarks/accuracy.py
	$(PY) -m benchmarks.audit
	$(PY) benchmarks/delivery.py --rows 1000000
	$(PY) benchmarks/masking.py --rows 1000000

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache
