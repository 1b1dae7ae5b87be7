# The two commands of the README: `make run` and `make test`. Everything else they need is here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE_IMAGE := orchestrator/linear-regression:latest
DISTRIBUTED_IMAGE := orchestrator/distributed-regression:latest
TEST_IMAGE := orchestrator/testbox:latest
MODEL_QUALITY_IMAGE := orchestrator/model-quality:latest
SWARM_HELPER_IMAGE := orchestrator/swarm-helper:latest
SWARM_NODE_IMAGE := orchestrator/swarm-node:latest
EXAMPLE := examples/linear-regression

.PHONY: install images chromium run test unit integration lint typecheck bench bench-search clean

install: $(BIN)/orchestrator

$(BIN)/orchestrator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

images:
	@docker info >/dev/null 2>&1 || { echo "no Docker daemon answers: start Docker first" >&2; exit 1; }
	@base=$$(containers/choose-base.sh) && echo "base image: $$base" && \
	docker build --quiet --build-arg BASE_IMAGE=$$base -t $(EXAMPLE_IMAGE) containers/linear-regression >/dev/null && \
	docker build --quiet --build-arg BASE_IMAGE=$$base -t $(DISTRIBUTED_IMAGE) containers/distributed-regression >/dev/null && \
	docker build --quiet --build-arg BASE_IMAGE=$$base -t $(TEST_IMAGE) containers/testbox >/dev/null && \
	docker build --quiet --build-arg BASE_IMAGE=$$base -t $(MODEL_QUALITY_IMAGE) containers/model-quality >/dev/null && \
	docker build --quiet --build-arg BASE_IMAGE=$$base -t $(SWARM_HELPER_IMAGE) containers/swarm-helper >/dev/null && \
	docker build --quiet --build-arg BASE_IMAGE=$$base -t $(SWARM_NODE_IMAGE) containers/swarm-node >/dev/null && \
	echo "built $(EXAMPLE_IMAGE) $(DISTRIBUTED_IMAGE) $(TEST_IMAGE) $(MODEL_QUALITY_IMAGE) $(SWARM_HELPER_IMAGE) $(SWARM_NODE_IMAGE)"

# The dashboard's browser tests drive Debian's chromium (Playwright's own browser downloads are
# never used: no CDN answers here). Installed when missing and apt-get can; else they skip.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the dashboard's browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo="sudo -n"; fi; \
	  { $$sudo apt-get update -qq && $$sudo apt-get install -y -qq chromium >/dev/null; } || \
	  echo "could not install chromium: the browser tests will say so" >&2; }

run: install images
	$(BIN)/orchestrator upload $(EXAMPLE)/data s3://examples/linear-regression/train
	$(BIN)/orchestrator run $(EXAMPLE)/job.json --name linear-regression-$$(date +%Y%m%d-%H%M%S)

lint: install
	$(BIN)/ruff check orchestrator tests benchmarks examples
	$(BIN)/ruff format --check orchestrator tests benchmarks examples

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit

test: install images chromium lint typecheck
	BASE_IMAGE=$$(containers/choose-base.sh) $(BIN)/pytest

bench: install images
	$(BIN)/python benchmarks/start_latency.py
	$(BIN)/python benchmarks/metrics_scraping.py
	$(BIN)/python benchmarks/api_throughput.py
	$(BIN)/python benchmarks/checkpoint_sync.py
	$(BIN)/python benchmarks/warm_pool_start.py
	$(BIN)/python benchmarks/distributed_start.py
	$(BIN)/python benchmarks/s3_throughput.py
	$(BIN)/python benchmarks/pipe_throughput.py
	$(BIN)/python benchmarks/pytest_fixture.py
	$(BIN)/python -m benchmarks.swarm_start
	$(BIN)/python -m benchmarks.dashboard_bench
	$(MAKE) bench-search

# MLflow is installed into its own venv, only for the comparison: the project never needs it.
bench-search: install
	test -x .bench-venv/bin/python || $(PYTHON) -m venv .bench-venv
	.bench-venv/bin/pip install --quiet -e . mlflow-skinny sqlalchemy alembic
	cd benchmarks && ../.bench-venv/bin/python search_bench.py

clean:
	rm -rf $(VENV) .bench-venv *.egg-info .mypy_cache .ruff_cache .pytest_cache
