# Reimbursement Desk: `make run` serves the app on SQLite; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_DEBUG ?= 1

.PHONY: run test lint bench system-deps clean venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

venv: $(VENV)/.runtime-installed

# Serve the app on http://$(HOST):$(PORT) with SQLite, starter data and one demo login per role.
# A development .env (DJANGO_DEBUG=1) so manage.py commands work the same outside make.
.env:
	cp .env.example .env

run: $(VENV)/.runtime-installed .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_starter_data
	$(PY) manage.py create_demo_accounts
	@echo "Starting the import worker and the web server on http://$(HOST):$(PORT)/"
	@$(PY) manage.py db_worker --interval 1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# System packages the tests drive for real: Chromium (browser tests), Dovecot (IMAP), Pango (PDF).
# Installed with apt when running as root on Debian; otherwise those tests skip and say why.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  [ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	  dpkg -s libpango-1.0-0 >/dev/null 2>&1 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	  dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing="$$missing fonts-dejavu-core"; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  fi; \
	fi

# The whole suite; uses DATABASE_URL when set (PostgreSQL in CI), else SQLite.
test: $(VENV)/.dev-installed system-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.dev-installed
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles test-artifacts
