# Kith: `make run` starts the whole platform on one machine; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install web browser run demo test lint typecheck check clean

install: $(STAMP) web

# The web app booking serves at /app/: npm ci from the lock file, then the build (which
# generates the typed API clients from web/openapi.json and web/ledger-openapi.json,
# type-checks, and bundles into web/dist). Needs Node 20.19+ and npm, and the npm registry for the first `npm ci`.
WEB := web
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/openapi.json $(WEB)/ledger-openapi.json $(WEB)/vite.config.ts \
	$(WEB)/tsconfig.json
web: $(WEB)/dist/.built

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

$(WEB)/dist/.built: $(WEB)/node_modules/.installed $(WEB_SOURCES)
	cd $(WEB) && npm run build
	touch $@

# The operators' console test drives Debian's Chromium through playwright (no browser download).
# It is installed from Debian's packages when missing; as root, or with sudo where there is one.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
browser: $(CHROMIUM)

$(CHROMIUM):
	$(SUDO) apt-get install -y --no-install-recommends chromium || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

# Reinstall whenever the project's dependencies change.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/kith up

demo: install
	$(BIN)/kith demo

# Three workers, each alternating between end-to-end tests and the rest (tests/conftest.py).
test: install browser
	cd $(WEB) && npm test
	$(BIN)/pytest -n 3 --dist loadgroup

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .kith .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules $(WEB)/dist
