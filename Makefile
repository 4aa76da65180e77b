# Every routine of the project. `make serve` and `make test` set up first when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
ENV ?= gymnasium:CartPole-v1
HOST ?= 127.0.0.1
PORT ?= 50051
BASELINE := proto/released/openenv-v1.binpb
PY_SOURCES := python tests examples/python scripts bench
# Every other language: mk/<lang>.mk installs its pinned generators into
# .tools/ (tools-<lang>), builds its package, example and conformance client
# (build-<lang>), and leaves the conformance client runnable as
# .tools/conformance/<lang> (see tests/conformance/README.md).
LANGS := go ts rust java cpp
TOOLS := $(CURDIR)/.tools

.PHONY: setup gen gen-check lint format breaking release-contract test serve bench bench-quick lock clean \
	tools langs conformance

.DEFAULT_GOAL := setup
-include $(wildcard mk/*.mk)

tools: $(STAMP) $(addprefix tools-,$(LANGS)) tools-grpcurl ## every language's pinned generators, grpcurl and grpc-health-probe, in .tools/

langs: $(addprefix build-,$(LANGS)) ## build every language's package, example and conformance client

setup: $(STAMP) ## .venv with pinned tools, the generated package and openenv-grpc, editable

$(STAMP): requirements-dev.txt requirements.lock python/pyproject.toml gen/python/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -r requirements-dev.txt -e gen/python -e python
	touch $(STAMP)

gen: tools ## regenerate gen/<lang>/ from proto/ for every language
	$(BIN)/buf format --write
	$(BIN)/python scripts/gen.py

gen-check: tools ## fail when any gen/<lang>/ differs from what proto/ generates
	$(BIN)/python scripts/gen.py --check

lint: $(STAMP) gen-check breaking ## ruff, mypy --strict, buf lint and format, drift, breaking
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy --strict
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code

format: $(STAMP) ## rewrite sources in the house style
	$(BIN)/ruff check --fix $(PY_SOURCES)
	$(BIN)/ruff format $(PY_SOURCES)
	$(BIN)/buf format --write

breaking: $(STAMP) ## the contract stays compatible with the last released one
	$(BIN)/buf breaking --against $(BASELINE)

release-contract: $(STAMP) ## record the current contract as the released baseline
	$(BIN)/buf build --exclude-source-info -o $(BASELINE)

conformance: $(STAMP) langs ## every language's client through the conformance scenario
	@$(BIN)/python -m pytest tests/conformance $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; exit $$rc

test: $(STAMP) langs tools-grpcurl tools-browser tools-otelcol ## the whole test suite (not test-k8s), conformance of every language included; "no tests collected" (pytest's 5) fails
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; exit $$rc

bench: $(STAMP) ## openenv-grpc beside OpenEnv in one run (about 5 min); table + bench/results/latest.json
	$(BIN)/python bench/run.py

bench-quick: $(STAMP) ## the same in under 2 minutes: shorter rows, no 16 MiB
	$(BIN)/python bench/run.py --quick

serve: $(STAMP) ## serve ENV (default CartPole-v1) on HOST:PORT
	$(BIN)/openenv-grpc serve $(ENV) --host $(HOST) --port $(PORT)

lock: ## re-pin every package after changing requirements-dev.txt
	rm -rf $(VENV).lock && $(PYTHON) -m venv $(VENV).lock
	$(VENV).lock/bin/python -m pip install --quiet -r requirements-dev.txt -e gen/python -e python
	{ echo "# Exact versions of every package .venv holds, used as constraints by \`make setup\`."; \
	  echo "# Regenerate with \`make lock\` after changing requirements-dev.txt or a pyproject.toml."; \
	  $(VENV).lock/bin/python -m pip freeze --exclude-editable | grep -v '^openenv-grpc'; } > requirements.lock
	rm -rf $(VENV).lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(TOOLS)
