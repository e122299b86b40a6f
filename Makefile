# The README's two commands are `make demo` and `make test`; both set up .venv first.
# The first Python >= 3.11 on PATH (evaluated once).
FOUND_PYTHON := $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { echo $$p; break; }; done)
PYTHON ?= $(FOUND_PYTHON)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "Fundwall needs Python >= 3.11 (python3.11 or newer on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: install
	$(BIN)/fundwall demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Two workers (pytest-xdist): the suite keeps both cores of a CI machine busy; each worker has
# its own PostgreSQL database and temporary directory (tests/conftest.py). A group of tests
# (`xdist_group`) runs on one worker: the Spark tests share one JVM that way.
TEST_WORKERS ?= 2

test: lint
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

bench: install
	$(BIN)/python benchmarks/run.py

# Re-pin after changing pyproject.toml (needs the network): the runtime dependencies and the
# bench and dev extras. The current pins are kept (they constrain the resolution), so only what
# was added or dropped changes; delete requirements.lock first to move every pin to the newest.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q $(if $(wildcard requirements.lock),-c requirements.lock) \
	  -e '.[bench,dev]' setuptools
	{ echo "# Pinned dependencies of fundwall (runtime, bench and dev extras). Regenerate with: make lock"; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^fundwall' ; \
	  .lock-venv/bin/pip freeze --all | grep '^setuptools=='; } > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
