# securekv — two commands for a new user: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
CONF   ?= conf/securekv.conf
JOBS   ?= auto

.PHONY: run test venv test-venv compat bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

test-venv: $(VENV)/.installed-test

# Development certificates for the TLS listener (6380 beside plaintext 6379).
CERTS  ?= certs

$(CERTS)/server.crt: | $(VENV)/.installed
	$(VENV)/bin/securekv tls dev-certs $(CERTS)

run: $(VENV)/.installed $(CERTS)/server.crt
	$(VENV)/bin/securekv-server $(CONF) --tls-port 6380 \
		--tls-cert-file $(CERTS)/server.crt --tls-key-file $(CERTS)/server.key \
		--tls-ca-cert-file $(CERTS)/ca.crt --tls-auth-clients optional

test: $(VENV)/.installed-test
	@command -v redis-server >/dev/null || echo "note: redis-server not on PATH: compat tests are skipped (apt-get install -y redis-server redis-tools)"
	$(PY) -m pytest -n $(JOBS) -q tests

compat: $(VENV)/.installed-test
	$(PY) -m pytest -q tests/compat

bench: $(VENV)/.installed
	$(PY) bench/compare

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
