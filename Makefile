# Shaobao (哨报). `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
VENV_STAMP := .venv/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
QUIXSTREAMS := 3.28.1
PEER_STAMP := .cache/peer-venv/.installed-quixstreams-$(QUIXSTREAMS)
JARS_STAMP := .cache/kafka/libs/.complete
ASYNCAPI_STAMP := tools/asyncapi/node_modules/.package-lock.json
export SHAOBAO_STATE_DIR ?= $(CURDIR)/.state
RATE ?= 3

# Debian packages each target needs, by the command that proves them present.
RUN_DEBS := java:openjdk-17-jre-headless mvn:maven initdb:postgresql
TEST_DEBS := $(RUN_DEBS) chromium:chromium docker-compose:docker-compose kcat:kcat promtool:prometheus \
  /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc:fonts-noto-cjk

.PHONY: help run test check bench chaos clean compose-env deps deps-test unit integration e2e

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: deps ## install what is missing, start Kafka, PostgreSQL, worker, control room, simulator (RATE=appeals/s)
	@$(PY) -m shaobao.cli run --rate $(RATE)

test: deps-test check ## the same set-up, then the whole suite against the real broker and database
	scripts/test-tiers

unit: $(VENV_STAMP) ## the unit tier alone, in under a minute: no broker, database, browser or tool outside the venv
	$(PY) -m pytest tests/unit -q -p no:cacheprovider --durations=10

integration: deps-test ## the same set-up as test, then the integration and end-to-end tiers
	$(PY) -m pytest tests/integration tests/e2e -q -p no:cacheprovider --durations=20

check: $(VENV_STAMP) ## ruff and mypy --strict
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/lint-imports
	$(PY) -m shaobao.contract_cli check

bench: deps $(PEER_STAMP) ## measure throughput and latency (beside quixstreams); writes BENCHMARKS.md and bench/results.json
	$(PY) -m bench.pipeline
	$(PY) -m bench.triage
	$(PY) -m bench.timers
	$(PY) -m bench.timers_recovery
	$(PY) -m bench.backfill

chaos: deps ## 10 minutes of faults under load on three brokers; writes bench/chaos.json and RELIABILITY.md's table
	$(PY) -m bench.chaos

compose-env: ## write .env with random passwords for docker-compose.yml (kept when it exists)
	@if [ -e .env ]; then echo ".env exists; keeping it"; else \
	  umask 077 && python3 -c 'import secrets; print("".join(f"{n}={secrets.token_urlsafe(24)}\n" for n in ("SHAOBAO_KAFKA_ADMIN_PASSWORD", "SHAOBAO_KAFKA_CONTROLLER_PASSWORD", "SHAOBAO_POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD")), end="")' > .env \
	  && echo "wrote .env (mode 0600): docker compose up --build"; fi

clean: ## stop local services and remove all local state (not the downloaded jars)
	-@[ -x $(PY) ] && $(PY) -m infra.local purge
	rm -rf .state

deps: $(VENV_STAMP) $(JARS_STAMP) debs-run
deps-test: $(VENV_STAMP) $(JARS_STAMP) $(ASYNCAPI_STAMP) debs-test

$(VENV_STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	@[ -x $(PY) ] || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@rm -f .venv/.installed-* && touch $@

# The peer stream processor of `make bench` (bench/peer_quix.py), in a virtualenv of its own:
# quixstreams pins an older pydantic than the project's. `make test` never needs it.
$(PEER_STAMP):
	@rm -rf .cache/peer-venv && python3 -m venv .cache/peer-venv
	.cache/peer-venv/bin/python -m pip install -q --upgrade pip
	.cache/peer-venv/bin/python -m pip install -q 'quixstreams==$(QUIXSTREAMS)'
	@touch $@

$(JARS_STAMP): infra/kafka/pom.xml $(VENV_STAMP)
	$(PY) -c "from infra.local.kafka import ensure_kafka_jars; ensure_kafka_jars()"

# The AsyncAPI project's own parser validates schemas/asyncapi.yaml in the test run.
# --ignore-scripts skips a telemetry postinstall the parser does not need.
$(ASYNCAPI_STAMP): tools/asyncapi/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20+ and npm are required"; exit 1; }
	npm ci --prefix tools/asyncapi --ignore-scripts --no-audit --no-fund

.PHONY: debs-run debs-test
debs-run:
	@scripts/ensure-debs $(RUN_DEBS)
debs-test:
	@scripts/ensure-debs $(TEST_DEBS)
