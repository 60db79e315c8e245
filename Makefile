# The two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test venv chromium lint assets services-down clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP)

## make run: local PostgreSQL + Redis (unless DATABASE_URL/REDIS_URL are set), migrate, demo data,
## then the site on http://127.0.0.1:8000 with a Celery worker, beat and the dev mail sink.
run: venv
	$(BIN)/python scripts/dev.py run

## make test: the whole suite (lint, unit, integration, worker, browser) against real services.
test: venv chromium
	$(BIN)/python scripts/dev.py test $(PYTEST_ARGS)

# Browser journeys drive Debian's Chromium (a test tool's own browser download does not work here).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: venv
	$(BIN)/ruff check .

# Rebuild the committed front-end bundle from npm packages (needs Node.js; `make run` does not).
assets:
	cd frontend && npm ci --no-audit --no-fund && npm run build

services-down: venv
	$(BIN)/python scripts/services.py down

clean: services-down
	rm -rf $(VENV) .data
