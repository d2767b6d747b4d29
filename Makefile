# make run · make test · make lint · make bench
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,notebooks]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/atende demo
	$(BIN)/atende serve

test: $(VENV)/.dev-installed
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "make test: on PostgreSQL ($$DATABASE_URL) and Redis ($${REDIS_URL:-unset})"; \
	else \
		echo "make test: on the embedded defaults (SQLite, in-process broker)"; \
	fi
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo  # the architecture: contracts in pyproject.toml [tool.importlinter]

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Issue 6's benchmarks on Postgres + Redis (DATABASE_URL and REDIS_URL name the servers, the
# local ones by default; the run makes its own database and uses Redis db 13): a table and
# bench-results.json. BENCH_ARGS=--smoke for tiny sizes; --help for the others.
bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.perf $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
