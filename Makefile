# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_PREFIX := $(VENV)/node
CHP := $(NODE_PREFIX)/node_modules/.bin/configurable-http-proxy
# plotly's partial bundles, the plotly.js of plotly==7.1.0: the apps' Voilà template serves them
PLOTLY_JS := $(NODE_PREFIX)/node_modules/plotly.js-cartesian-dist-min/plotly-cartesian.min.js
VOILA_TEMPLATE := $(VENV)/share/jupyter/voila/templates/hubkit/conf.json
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1

.PHONY: install demo test test-deps bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(PLOTLY_JS):
	npm install --silent --no-audit --no-fund --save-exact --prefix $(NODE_PREFIX) plotly.js-basic-dist-min@4.1.1 \
	    plotly.js-cartesian-dist-min@4.1.1

$(VOILA_TEMPLATE): $(STAMP) $(PLOTLY_JS) $(wildcard hubkit/ui/voila_template/*) hubkit/ui/template.py
	$(PY) -m hubkit.ui.template --node-modules $(NODE_PREFIX)/node_modules
	touch $@

# Under root the platform runs users' code as their own accounts (hk-*) with this Python, so the
# folders above the interpreter (pyenv's lives under /root) must let other accounts pass through:
# execute permission only, nothing in them is listed or read.
ACCOUNTS_PATH := $(VENV)/.accounts-path

$(ACCOUNTS_PATH): $(STAMP)
	if [ "$$(id -u)" = 0 ]; then d=$$(dirname "$$(readlink -f $(PY))"); \
	    while [ "$$d" != / ]; do chmod o+x "$$d"; d=$$(dirname "$$d"); done; fi
	touch $@

install: $(STAMP) $(VOILA_TEMPLATE) $(ACCOUNTS_PATH)

$(CHP):
	npm install --silent --no-audit --no-fund --save-exact --prefix $(NODE_PREFIX) configurable-http-proxy@5.3.0

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# hubkit[export]: llama.cpp's runtime, built from source once (pip caches the wheel, so a later fresh
# .venv takes seconds), and its converter scripts; `make demo` never builds it.
EXPORT_TOOLS := $(VENV)/.export-tools

$(EXPORT_TOOLS): $(STAMP) requirements-export.lock
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m hubkit.export.tools
	touch $@

test-deps: install $(CHP) /usr/bin/chromium $(EXPORT_TOOLS)

# `make demo DB=postgresql`: the whole platform on PostgreSQL (PG_URL; the database is created if
# missing) with the service on several uvicorn workers (HUBKIT_SERVICE_WORKERS, 4 by default there).
DB ?= sqlite
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/hubkit
DEMO_DB_ENV := $(if $(filter postgresql,$(DB)),HUBKIT_DB_URL="$(PG_URL)",)

# The demo scores the code domain: generated code runs in hubkit's sandbox (docs/operations.md).
demo: install $(CHP)
	PATH="$(CURDIR)/$(NODE_PREFIX)/node_modules/.bin:$$PATH" HUBKIT_ALLOW_CODE_EXECUTION=1 $(DEMO_DB_ENV) \
	    exec $(PY) -m hubkit.cli demo

test: test-deps
	PATH="$(CURDIR)/$(NODE_PREFIX)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m pip install --quiet mlflow==3.17.2
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .hubkit
