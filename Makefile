# window_service — the two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
## Test processes (pytest-xdist): one per core by default; TEST_JOBS=0 runs the suite in one process.
TEST_JOBS ?= auto

.PHONY: install install-run run test test-fast lint format bench clean migration schema-check i18n

## What running the hall needs (make run): the package and its runtime dependencies only.
$(BIN)/.installed-run: pyproject.toml
	@if [ -f $(BIN)/.installed ] && [ $(BIN)/.installed -nt pyproject.toml ]; then touch $@; else \
	  $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q -e . && touch $@; fi

## Everything for tests, lint and the tools (make test, make lint …): the runtime plus [dev].
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(BIN)/.installed-run

install-run: $(BIN)/.installed-run

install: $(BIN)/.installed

## Start the hall on SQLite under var/ (migrates, seeds the demo hall, prints URLs and logins).
run: install-run
	$(BIN)/window-service demo
	$(BIN)/window-service serve --host $(HOST) --port $(PORT)

## The whole suite: SQLite always, PostgreSQL too when a server answers (see README).
test: install
	$(BIN)/pytest -n $(TEST_JOBS)

## The suite without the headless-browser and long-running tests.
test-fast: install
	$(BIN)/pytest -n $(TEST_JOBS) -m "not browser and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy window_service

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/issue.py
	$(BIN)/python bench/display.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

## A new migration from the model changes: make migration MSG="add window notes".
## (0001 has shipped: never regenerate it; each schema change is a new revision.)
migration: install
	@test -n "$(MSG)" || { echo 'usage: make migration MSG="what changes"'; exit 2; }
	@set -e; mkdir -p var; db=var/schema-check-$$$$.db; url=sqlite+aiosqlite:///$$db; \
	WINDOW_SERVICE_DATABASE_URL=$$url $(BIN)/alembic upgrade head; \
	WINDOW_SERVICE_DATABASE_URL=$$url $(BIN)/alembic revision --autogenerate -m "$(MSG)"; \
	rm -f $$db*
	@$(MAKE) --no-print-directory schema-check

## Check that the migrations build exactly the models' schema (SQLite).
schema-check: install
	@set -e; mkdir -p var; db=var/schema-check-$$$$.db; url=sqlite+aiosqlite:///$$db; \
	WINDOW_SERVICE_DATABASE_URL=$$url $(BIN)/alembic upgrade head; \
	WINDOW_SERVICE_DATABASE_URL=$$url $(BIN)/alembic check; rm -f $$db*; \
	$(BIN)/ruff check --fix -q migrations; $(BIN)/ruff format -q migrations

## Page translations: extract the Chinese source texts, update the English catalogue, compile it.
LOCALES := window_service/web/locale
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k t --add-location=file --sort-by-file --project window_service -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -l en --init-missing --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(LOCALES) -l en --statistics
