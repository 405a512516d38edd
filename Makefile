# ankieta — the two set-up commands on a fresh Debian machine are `make demo` and `make test`.
# Both create .venv, install the package and apt-get the Debian packages the project needs when missing.

SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed
DEB_PACKAGES := poppler-utils tesseract-ocr tesseract-ocr-pol
DEMO_HOME ?= demo/ankieta-data

.PHONY: all venv debs demo test lint bench clean serve

all: test

# Debian packages: installed only when a command is missing (root or sudo needed once).
debs:
	@missing=""; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr"; \
	{ command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx pol; } || missing="$$missing tesseract-ocr-pol"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "Instaluję pakiety Debiana:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV_STAMP): pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(VENV_STAMP)

venv: $(VENV_STAMP)

demo: debs venv
	$(PY) -m samples.demo --home $(DEMO_HOME)

# axe-core (accessibility checks in the browser tests) from the npm registry, pinned by package-lock.json
node_modules/axe-core/axe.min.js: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: debs venv node_modules/axe-core/axe.min.js
	OMP_THREAD_LIMIT=1 ANKIETA_REQUIRE_BROWSER=1 $(PY) -m pytest -q

lint: venv
	.venv/bin/ruff check pipeline samples tests
	.venv/bin/mypy pipeline samples
	.venv/bin/lint-imports

bench: debs venv
	$(PY) -m samples.bench --pages 300 --out BENCHMARKS.md

clean:
	rm -rf .venv demo node_modules .pytest_cache .mypy_cache .ruff_cache
