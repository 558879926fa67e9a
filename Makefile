# Every target installs what it needs first (a no-op once installed), so any of them can be the first
# command on a fresh clone with Python 3.11 and make.
PYTHON ?= python3
PANEL_DATA_DIR ?= data
SCALE ?= 1
SEED ?= 20220601

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

.PHONY: install demo test refresh dev bench restore generate clean-data

install: $(INSTALLED) $(DAGSTER_HOME)/dagster.yaml

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

$(INSTALLED): $(UV) pyproject.toml uv.lock
	UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --python $(PYTHON)
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

## make demo: synthetic data -> full refresh -> summary of the published marts
demo: install
	$(PY) -m synthetic_panel --out $(PANEL_DATA_DIR)/raw --scale $(SCALE) --seed $(SEED)
	$(PY) -c "from panel_ingest.secrets import ensure_local_key; from panel_ingest.paths import data_dir; ensure_local_key(data_dir())"
	$(PY) -m orchestration.refresh
	$(PY) -m orchestration.summary

## make generate: only (re)write the synthetic raw files
generate: install
	$(PY) -m synthetic_panel --out $(PANEL_DATA_DIR)/raw --scale $(SCALE) --seed $(SEED)

## make test: the whole suite (Python tests, dbt build with its data and unit tests)
test: install
	$(PY) -m pytest

## make refresh: materialise every asset for $(PANEL_DATA_DIR)/raw and publish warehouse.duckdb
refresh: install
	$(PY) -m orchestration.refresh

## make dev: Dagster UI and daemon with schedules and sensors
dev: install
	$(VENV)/bin/dagster dev -m orchestration.definitions

## make bench: refresh, linkage, query and baseline figures per scale -> BENCHMARKS.md, benchmarks/results.json
## (SCALES="1 10 100" by default, SCALE=S for one scale; BENCH_TIMEOUT seconds per measurement)
SCALES ?= 1 10 100
BENCH_SCALES = $(if $(filter command line environment environment override,$(origin SCALE)),$(SCALE),$(SCALES))
bench: install
	$(PY) -m benchmarks.bench --scales $(BENCH_SCALES) --seed $(SEED)

## make restore: put the last good warehouse back
restore: install
	$(PY) -m orchestration.publish --restore
