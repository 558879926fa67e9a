# Every target installs what it needs first (a no-op once installed), so any of them can be the first
# command on a fresh clone with Python 3.11 and make.
PYTHON ?= python3
PANEL_DATA_DIR ?= data
SCALE ?= 1
SEED ?= 20220601
FULL ?= $(PANEL_REFRESH_FULL)

export PANEL_DATA_DIR
export DAGSTER_HOME := $(abspath $(PANEL_DATA_DIR))/dagster_home
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export PYTHONDONTWRITEBYTECODE := 1

TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# A DuckDB 1.x client (what R, JDBC/DBeaver and BI tools bundle): the tests open the published file with it.
DUCKDB1 := $(TOOLS)/duckdb1
DUCKDB1_PINS := duckdb==1.5.6 pytz==2025.2

.PHONY: install demo test refresh dev bench restore releases generate clean-data report docs review

install: $(INSTALLED) $(DAGSTER_HOME)/dagster.yaml

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

$(INSTALLED): $(UV) pyproject.toml uv.lock
	@echo "installing the Python environment into $(VENV) (uv sync --frozen; a few minutes the first time)"
	@# bytecode compiled once at install: the Makefile sets PYTHONDONTWRITEBYTECODE (no __pycache__ in the
	@# checkout), so otherwise every refresh and dbt process compiles every library it imports, every time
	@UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 $(UV) sync --frozen --quiet --python $(PYTHON)
	touch $@

$(DUCKDB1)/.installed:
	$(PYTHON) -m venv $(DUCKDB1)
	$(DUCKDB1)/bin/pip install --quiet --disable-pip-version-check $(DUCKDB1_PINS)
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

## make demo: synthetic data -> full refresh -> summary of the published marts
demo: install
	@mkdir -p $(PANEL_DATA_DIR)/logs
	@echo "generating synthetic data (SCALE=$(SCALE), SEED=$(SEED)) into $(PANEL_DATA_DIR)/raw; what it holds: $(PANEL_DATA_DIR)/logs/generate.json"
	@$(PY) -m synthetic_panel --out $(PANEL_DATA_DIR)/raw --scale $(SCALE) --seed $(SEED) > $(PANEL_DATA_DIR)/logs/generate.json
	@# a random key for synthetic data, kept outside the data root (~/.config/ukraine-panel/keys/...)
	@if [ -z "$$PANEL_HMAC_KEY" ] && [ -z "$$PANEL_HMAC_KEY_FILE" ]; then $(PY) -m panel_ingest.secrets; fi
	@$(PY) -m orchestration.refresh
	@$(PY) -m orchestration.summary

## make generate: only (re)write the synthetic raw files
generate: install
	$(PY) -m synthetic_panel --out $(PANEL_DATA_DIR)/raw --scale $(SCALE) --seed $(SEED)

## make test: the whole suite (Python tests, dbt build with its data and unit tests)
test: install $(DUCKDB1)/.installed
	$(PY) -m pytest

## make refresh: materialise every asset for $(PANEL_DATA_DIR)/raw and publish warehouse.duckdb; nothing is rebuilt
## when no input changed, and unchanged partitions are copied from the published file (FULL=1 rebuilds everything)
## make can only exit 0 or 2, so the refresh's own status (1 check failed, 2 could not start, 3 published with
## broken partitions held back) is printed last; bin/refresh runs the same refresh and exits with that status.
refresh: install
	@PANEL_REFRESH_FULL=$(FULL) $(PY) -m orchestration.refresh; status=$$?; \
	if [ $$status -ne 0 ]; then echo "make refresh: the refresh exited with status $$status" \
	  "(1 a check or step failed, nothing published; 2 could not start); make exits 2 on any failure," \
	  "bin/refresh exits with the refresh's own status" >&2; fi; exit $$status

## make dev: Dagster UI and daemon with schedules and sensors (DEV_PORT, default 3000). `exec` makes dagster the
## process make signals, and orchestration.dev lets it hear SIGTERM even when started in the background, so
## stopping make (Ctrl-C or SIGTERM) stops the webserver, daemon and code servers too.
DEV_PORT ?= 3000
dev: install
	exec $(PY) -m orchestration.dev --port $(DEV_PORT)

## make bench: refresh, linkage, query and baseline figures per scale -> BENCHMARKS.md, benchmarks/results.json
## (SCALES="1 10 100" by default, SCALE=S for one scale; BENCH_TIMEOUT seconds per measurement)
SCALES ?= 1 10 100
BENCH_SCALES = $(if $(filter command line environment environment override,$(origin SCALE)),$(SCALE),$(SCALES))
bench: install
	$(PY) -m benchmarks.bench --scales $(BENCH_SCALES) --seed $(SEED)

## make review: export the linkage review queue to $(PANEL_DATA_DIR)/review/review_queue.csv
review: install
	$(PY) -m linkage.review

## make restore: put the last good warehouse back; make restore RELEASE=<id>: put a kept release back
restore: install
	$(PY) -m orchestration.publish --restore $(if $(RELEASE),--release $(RELEASE))

## make releases: the kept releases (PANEL_KEEP_RELEASES, default 5), oldest first
releases: install
	$(PY) -m orchestration.releases

## make report: $(PANEL_DATA_DIR)/report/index.html from the published warehouse (every refresh renders it too)
report: install
	$(PY) -m panel_report report

## make docs: $(PANEL_DATA_DIR)/catalogue/index.html (dbt docs, static) and catalogue/codebook.html
docs: install
	$(PY) -m panel_report docs
