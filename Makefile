# Two entry points: `make serve` and `make test`. Everything else is what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DEBIAN_PACKAGES := postgresql-15 postgresql-15-postgis-3 gdal-bin python3-venv chromium fonts-dejavu-core

.PHONY: serve test system qgis venv db lint bench clean

serve: system venv ## Start local PostGIS, migrate, load demo data if empty, serve on :8000
	$(BIN)/geoservice db up
	$(BIN)/geoservice db migrate
	@# This checkout's settings (var/local.env): the commands typed next, e.g. the development
	@# sign-in, run with the demo setting the server runs with. Never in production.
	@mkdir -p var && grep -qs '^GEOSERVICE_DEMO=1' var/local.env || echo 'GEOSERVICE_DEMO=1' >> var/local.env
	@# The demo's mail goes to a local SMTP sink (kept in var/mail; `geoservice mail list`), unless
	@# var/local.env names another SMTP server.
	@grep -qs '^GEOSERVICE_SMTP_HOST=' var/local.env || printf 'GEOSERVICE_SMTP_HOST=127.0.0.1\nGEOSERVICE_SMTP_PORT=8025\nGEOSERVICE_SMTP_TLS=none\n' >> var/local.env
	@# Ours is the one whose pid var/mail-sink.pid holds; another program on the port gets a warning.
	@if grep -qs '^GEOSERVICE_SMTP_HOST=127.0.0.1$$' var/local.env; then \
	  if [ -f var/mail-sink.pid ] && kill -0 "$$(cat var/mail-sink.pid)" 2>/dev/null; then :; \
	  elif (exec 3<>/dev/tcp/127.0.0.1/8025) 2>/dev/null; then \
	    echo "warning: another program listens on 127.0.0.1:8025, not this checkout's SMTP sink; the demo's mail goes there"; \
	  else nohup $(BIN)/geoservice mail sink --port 8025 >> var/mail-sink.log 2>&1 & echo $$! > var/mail-sink.pid; \
	    echo "local SMTP sink on 127.0.0.1:8025 (mail kept in var/mail: .venv/bin/geoservice mail list)"; fi; fi
	GEOSERVICE_DEMO=1 $(BIN)/geoservice demo load --if-empty
	@echo "The cabinet without NCALayer: .venv/bin/geoservice demo sign-in 900315300123 (prints a one-time link)"
	GEOSERVICE_DEMO=1 $(BIN)/geoservice serve

test: system qgis venv ## The same set-up, then the whole suite against a throwaway database
	$(BIN)/geoservice db up
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 -q

system: ## Debian packages: PostgreSQL 15 + PostGIS 3, GDAL tools, venv
	@missing=""; \
	[ -f /usr/share/postgresql/15/extension/postgis.control ] || missing="$$missing postgresql-15 postgresql-15-postgis-3"; \
	command -v ogr2ogr >/dev/null || missing="$$missing gdal-bin"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; \
	fi

qgis: ## Debian's QGIS for the tests that open our layers in QGIS; best effort (without it they are skipped)
	@if ! /usr/bin/python3 -c 'import qgis.core' 2>/dev/null; then \
	  echo "installing Debian's QGIS (python3-qgis) for the QGIS client tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    python3-qgis qgis-providers >/dev/null) || echo "QGIS could not be installed: its tests will be skipped"; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*; touch $@

db: system venv ## Only start the database and migrate
	$(BIN)/geoservice db up
	$(BIN)/geoservice db migrate

lint: venv
	$(BIN)/ruff check .

bench: system venv ## Benchmarks (print ratios against the reference tools)
	$(BIN)/geoservice db up
	$(BIN)/python bench/import_vs_ogr2ogr.py
	$(BIN)/python bench/grid_build.py

clean: ## Stop the cluster and remove var/ and the venv
	-$(BIN)/geoservice db down
	rm -rf var $(VENV)
