# The README's two commands are `make run` and `make test`; everything else is a helper for them.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint install bench-smoke clean

$(BIN)/fieldops: pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

install: $(BIN)/fieldops

## Start fieldops on the embedded default: SQLite file, in-process MQTT broker, demo data.
run: install
	$(BIN)/fieldops serve --demo

## The whole test suite (SQLite unless FIELDOPS_TEST_DATABASE_URL names another database).
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

## Linters: style, types and the import contracts that keep the layers one-way.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

clean:
	rm -rf $(VENV) .fieldops .pytest_cache .mypy_cache .ruff_cache
