# truyvet: the two commands a newcomer needs are `make run` and `make test`.
# Both do all set-up first (deploy/setup.sh: Debian packages, virtualenv, Kafka jars; for the
# tests also helm and the KEDA CRDs, which the offline checks of deploy/ use).

VENV   ?= .venv
PY     := $(VENV)/bin/python
TRUYVET := $(VENV)/bin/truyvet
PYTEST_ARGS ?=

.PHONY: setup run test test-unit test-integration bench stack-up stack-down clean

setup:
	@bash deploy/setup.sh

## run: the whole local pipeline (Kafka, Redis, stream workers, simulator); Ctrl-C stops it
run: setup
	$(TRUYVET) run

## test: every test against real Kafka and Redis (started by the tests themselves)
test:
	@bash deploy/setup.sh --tests
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test-unit: setup
	$(PY) -m pytest tests/unit tests/contract $(PYTEST_ARGS)

test-integration: setup
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

## bench: speed and memory figures (not part of the tests)
bench: setup
	$(PY) -m pip install -q -e ".[test,bench]"
	$(PY) -m bench

stack-up: setup
	$(TRUYVET) stack up

stack-down:
	$(TRUYVET) stack down

clean:
	-$(TRUYVET) stack down
	rm -rf .var .pytest_cache .hypothesis
