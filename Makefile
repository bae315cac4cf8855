# ccx: the two commands a newcomer needs are `make up` and `make test`.
# Each creates the virtual environment and installs what it needs first.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DATA   ?= data/demo
PORT   ?= 8080
ARGS   ?=

.PHONY: help install up test lint fmt bench bench-kafka bench-acd bench-warehouse bench-ami bench-api clean

help:            ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/ccx: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(BIN)/ccx

install: $(BIN)/ccx ## create .venv and install ccx with its dev tools (and Java + Maven for local Kafka)
	bash infra/kafka/ensure-java.sh

up: install      ## run ccx on the embedded default with simulated traffic and the wallboard
	$(BIN)/ccx up --data-dir $(DATA) --port $(PORT) $(ARGS)

lint: install    ## ruff check, ruff format --check, mypy (strict on schemas/ and processors/)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint       ## the lint gate, then every test (unit, integration, e2e, browser: installs Chromium if missing)
	bash infra/browser/ensure-chromium.sh
	$(BIN)/pytest -q $(ARGS)

fmt: install     ## format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install   ## print the pipeline benchmark numbers
	$(BIN)/python bench/pipeline.py

bench-kafka: install ## print the Kafka benchmark numbers (raw floor, pipeline, latency) on a local broker
	$(BIN)/python bench/kafka.py $(ARGS)

bench-acd: install ## print the ACD routing benchmark (indexed vs scan at 100, 1,000, 10,000 agents)
	$(BIN)/python bench/acd.py $(ARGS)

bench-warehouse: install ## load 10 million contacts into chDB; report latency beside pandas
	$(BIN)/python bench/warehouse.py $(ARGS)

bench-ami: install ## AMI events/s the adapter translates beside the raw frame-parse rate
	$(BIN)/python bench/ami.py $(ARGS)

bench-api: install ## command round trips/s and p50/p99 latency; wallboard staleness to 500 WebSocket clients
	$(BIN)/python bench/api.py $(ARGS)

clean:           ## remove the venv, caches and local data
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis data test-artifacts
