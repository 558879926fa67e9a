"""The Dagster definitions load, with the graph, pools, checks, automation and CLI validation the issue asks for."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import defs
from orchestration.defs.assets.dbt import MANIFEST
from orchestration.defs.assets.quality import udi_age_days, udi_freshness
from orchestration.defs.resources import BuildDatabase

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WRITERS = ["survey_wave", "udi_snapshot", "person_links", "linkage_truth", "survey_weights", "published_warehouse"]


@pytest.fixture(scope="module")
def graph():
    dg.Definitions.validate_loadable(defs)
    return defs.resolve_asset_graph()


def ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen, todo = set(), [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_the_graph_runs_from_ingest_through_dbt_and_linkage_to_publication(graph):
    keys = {k.to_user_string() for k in graph.materializable_asset_keys}
    assert {"survey_wave", "udi_snapshot", "person_links", "linkage_truth", "survey_weights", "published_warehouse",
            "staging/stg_survey__responses", "marts/persons", "marts/udi_monthly", "release/attrition"} <= keys
    assert dg.AssetKey("survey_wave") in graph.get(dg.AssetKey(["staging", "stg_survey__responses"])).parent_keys
    assert dg.AssetKey("udi_snapshot") in graph.get(dg.AssetKey(["staging", "stg_udi__valid_permits"])).parent_keys
    assert dg.AssetKey(["staging", "stg_survey__responses"]) in ancestors(graph, dg.AssetKey("person_links"))
    assert {dg.AssetKey("person_links"), dg.AssetKey(["staging", "stg_udi__valid_permits"])} <= ancestors(
        graph, dg.AssetKey("survey_weights"))
    assert dg.AssetKey("survey_weights") in ancestors(graph, dg.AssetKey(["marts", "panel_tracking"]))
    assert dg.AssetKey("linkage_truth") in ancestors(graph, dg.AssetKey(["marts", "linkage_quality"]))
    publish_parents = graph.get(dg.AssetKey("published_warehouse")).parent_keys
    assert {k for k in graph.materializable_asset_keys if k.path[0] in ("marts", "release")} == set(publish_parents)


def test_ingest_assets_are_partitioned_by_the_dynamic_folders(graph):
    assert graph.get(dg.AssetKey("survey_wave")).partitions_def.name == "survey_wave"
    assert graph.get(dg.AssetKey("udi_snapshot")).partitions_def.name == "udi_snapshot"


def test_every_writer_of_the_build_file_is_in_the_duckdb_pool(graph):
    for name in WRITERS:
        assert graph.get(dg.AssetKey(name)).pools == {"duckdb_build"}, name
    dbt_models = [k for k in graph.materializable_asset_keys if k.path[0] in ("staging", "marts", "reference")]
    assert dbt_models and all(graph.get(k).pools == {"duckdb_build"} for k in dbt_models)


def test_dbt_tests_are_blocking_asset_checks_and_gx_suites_too(graph):
    checks = [graph.get_check_spec(k) for k in graph.asset_check_keys]
    dbt_checks = [c for c in checks if c.asset_key.path[0] in ("staging", "marts", "release", "intermediate")
                  and c.name not in ("great_expectations", "udi_freshness")]
    assert len(dbt_checks) >= 20
    # a dbt test blocks exactly when its severity is error (warning tests, e.g. a wave missing from
    # survey_waves.csv, show but do not stop publication)
    manifest = json.loads(Path(MANIFEST).read_text())["nodes"]
    severity = {c.name: manifest[c.metadata["dagster_dbt/unique_id"]]["config"]["severity"].lower() for c in dbt_checks}
    assert [c.name for c in dbt_checks if c.blocking != (severity[c.name] == "error")] == []
    assert sum(1 for c in dbt_checks if c.blocking) >= 20
    gx = {c.asset_key.path[-1] for c in checks if c.name == "great_expectations"}
    assert gx == {"aspiration_by_wave", "aspiration_transitions", "attrition", "panel_tracking", "udi_monthly",
                  "exit_reasons"}
    assert all(c.blocking for c in checks if c.name == "great_expectations")
    ingest = {(c.asset_key.path[-1], c.name, c.blocking) for c in checks if c.asset_key.path[-1] in ("survey_wave", "udi_snapshot")}
    assert {("survey_wave", "survey_partition_valid", True), ("udi_snapshot", "udi_partition_valid", True)} <= ingest


def test_nothing_opens_the_build_file_outside_the_writers_pool():
    """Every asset and asset check that opens the build file (its `build_db` resource, or dbt) runs in the
    `duckdb_build` pool, readers too: a reader beside a writer of the same file is a DuckDB lock clash."""
    openers = [d for d in [*defs.assets, *defs.asset_checks]
               if isinstance(d, (dg.AssetsDefinition, dg.AssetChecksDefinition)) and d.is_executable
               and {"build_db", "dbt"} & set(d.required_resource_keys)]
    assert {"udi_snapshot", "marts__udi_monthly_udi_freshness", "great_expectations_suites"} <= {
        d.node_def.name for d in openers}
    assert [d.node_def.name for d in openers if d.node_def.pool != "duckdb_build"] == []


def test_downstream_assets_are_brought_up_to_date_by_declarative_automation(graph):
    downstream = [k for k in graph.materializable_asset_keys if k.path[-1] not in ("survey_wave", "udi_snapshot")]
    missing = [k.to_user_string() for k in downstream if graph.get(k).automation_condition is None]
    assert missing == []
    sensors = {s.name: s for s in defs.sensors}
    assert isinstance(sensors["panel_automation"], dg.AutomationConditionSensorDefinition)
    assert {"raw_folder_sensor", "run_failure_alert"} <= set(sensors)
    assert [s.name for s in defs.schedules] == ["monthly_udi_refresh"]


def test_dagster_yaml_is_valid_for_this_dagster_and_sets_retries_pool_and_telemetry(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_bytes((PROJECT_ROOT / "orchestration" / "dagster.yaml").read_bytes())
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries >= 1
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.telemetry_enabled is False


@pytest.mark.parametrize("command", [["dg", "check", "defs"], ["dagster", "definitions", "validate", "-m", "orchestration.definitions"]])
def test_the_definitions_validate_from_the_command_line(command, tmp_path):
    executable = str(Path(sys.executable).parent / command[0])
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run([executable, *command[1:]], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_udi_age_counts_days_since_the_newest_snapshot():
    assert udi_age_days(date(2025, 10, 5), date(2025, 11, 14)) == 40
    assert udi_age_days(date(2025, 10, 5), date(2025, 11, 15)) == 41


@pytest.mark.parametrize(("today", "passed"), [("2025-11-14", True), ("2025-11-15", False)])
def test_udi_freshness_check_warns_after_forty_days(tmp_path, monkeypatch, today, passed):
    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PANEL_TODAY", today)
    con = duckdb.connect(BuildDatabase().path())
    con.execute("create schema marts")
    con.execute("create table marts.udi_monthly as select date '2025-09-01' as month, date '2025-10-05' as vintage_date")
    con.close()
    result = udi_freshness(build_db=BuildDatabase())
    assert result.passed is passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert "2025-10-05" in result.description


def test_publication_waits_for_every_blocking_check_on_the_marts(graph):
    job = defs.resolve_job_def("downstream_job")
    upstream = {
        output.output_def.name
        for outputs in job.graph.dependency_structure.input_to_upstream_outputs_for_node("published_warehouse").values()
        for output in outputs
    }
    blocking = [graph.get_check_spec(k) for k in graph.asset_check_keys
                if k.asset_key.path[0] in ("marts", "release") and graph.get_check_spec(k).blocking]
    assert any(c.name == "great_expectations" for c in blocking)
    missing = [f"{c.asset_key.to_user_string()}:{c.name}" for c in blocking
               if f"{c.asset_key.to_python_identifier()}_{c.name}" not in upstream]
    assert missing == []


def test_every_asset_has_an_owner(graph):
    unowned = [k.to_user_string() for k in graph.materializable_asset_keys if not graph.get(k).owners]
    assert unowned == []


def test_every_check_has_a_readable_description(graph):
    checks = [graph.get_check_spec(k) for k in graph.asset_check_keys]
    undescribed = [f"{c.asset_key.to_user_string()}:{c.name}" for c in checks if not (c.description or "").strip()]
    assert undescribed == []
    by_name = {(c.asset_key.to_user_string(), c.name): c.description for c in checks}
    assert by_name[("marts/aspiration_by_wave", "accepted_values_aspiration_by_wave_scale__fine__coarse")] == (
        "`scale` only takes the values fine, coarse.")


def test_linkage_weights_and_publication_carry_checks(graph):
    checked = {c.asset_key.to_user_string() for c in (graph.get_check_spec(k) for k in graph.asset_check_keys)}
    assert {"person_links", "survey_weights", "published_warehouse", "data_catalogue"} <= checked


def test_report_and_catalogue_are_rendered_after_publication_by_every_refresh(graph):
    for name in ("panel_report", "data_catalogue"):
        assert dg.AssetKey("published_warehouse") in graph.get(dg.AssetKey(name)).parent_keys
        assert graph.get(dg.AssetKey(name)).automation_condition is not None
    selected = defs.resolve_job_def("downstream_job").asset_layer.selected_asset_keys
    assert {dg.AssetKey("panel_report"), dg.AssetKey("data_catalogue")} <= set(selected)


def test_dagster_yaml_hides_the_community_box(tmp_path):
    (tmp_path / "dagster.yaml").write_bytes((PROJECT_ROOT / "orchestration" / "dagster.yaml").read_bytes())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.nux_enabled is False


def test_udi_freshness_on_synthetic_data_compares_with_its_last_submission(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PANEL_TODAY", raising=False)
    (tmp_path / "raw" / "_truth").mkdir(parents=True)
    con = duckdb.connect(BuildDatabase().path())
    con.execute("create schema marts; create schema staging")
    con.execute("create table marts.udi_monthly as select date '2025-09-01' as month, date '2025-10-05' as vintage_date")
    con.execute("create table staging.stg_survey__responses as select timestamp '2025-09-01 10:00' as submitted_at")
    con.close()
    fresh = udi_freshness(build_db=BuildDatabase())
    assert fresh.passed and "last survey submission (2025-09-01)" in fresh.description
    (tmp_path / "raw" / "_truth").rmdir()  # real data: compared with today, years later
    assert udi_freshness(build_db=BuildDatabase()).passed is False


def _group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == group:
                    members.append(int(entry.name))
            except ProcessLookupError:
                pass
    return members


def test_make_dev_started_in_the_background_stops_everything_on_sigterm(tmp_path):
    """`make dev &` inherits SIGINT ignored; SIGTERM to make must still stop dagster's webserver, daemon and code
    servers (all in make's process group here)."""
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PANEL_DATA_DIR": str(tmp_path / "data")}
    make = subprocess.Popen(["make", "dev", f"DEV_PORT={port}"], cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert make.poll() is None and time.monotonic() < deadline, "make dev did not serve the UI"
            time.sleep(2)
        assert len(_group_members(make.pid)) >= 3  # make, dagster dev, webserver, daemon, code server
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=300)  # dagster dev stops its code server and daemon first; slow on a loaded machine
        deadline = time.monotonic() + 120
        while _group_members(make.pid) and time.monotonic() < deadline:
            time.sleep(1)
        assert _group_members(make.pid) == []
    finally:
        for pid in _group_members(make.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("environ, args", [
    ({}, ["build", "--no-write-json", "--exclude-resource-type", "unit_test"]),
    ({"PANEL_DBT_UNIT_TESTS": "0"}, ["build", "--no-write-json", "--exclude-resource-type", "unit_test"]),
    ({"PANEL_DBT_UNIT_TESTS": "1"}, ["build", "--no-write-json"]),
])
def test_a_refresh_leaves_dbt_unit_tests_to_development_unless_asked(environ, args):
    from orchestration.defs.assets.dbt import build_args

    assert build_args(environ) == args


def test_the_downstream_job_runs_each_dbt_stage_in_one_step():
    """Dagster splits a subsettable dbt op into several `dbt build` steps when a Python asset sits between its
    models; survey_weights reads staging and the linkage table, so the analysis op stays one step."""
    from orchestration.definitions import defs

    nodes = {node.name for node in defs.resolve_job_def("downstream_job").graph.nodes}
    assert {"dbt_harmonise", "dbt_analysis", "great_expectations_suites"} <= nodes
    assert not {name for name in nodes if name.startswith(("dbt_", "great_expectations_suites_"))} - {
        "dbt_harmonise", "dbt_analysis"}


def test_runs_launched_by_the_daemon_or_the_ui_execute_their_steps_in_one_process():
    """The default executor starts a Python process per step (definitions and dbt manifest loaded again each time)."""
    from orchestration.definitions import defs

    jobs = ["survey_wave_job", "udi_snapshot_job", "downstream_job", "__ASSET_JOB"]
    assert {name: defs.resolve_job_def(name).executor_def.name for name in jobs} == dict.fromkeys(jobs, "in_process")


def test_the_dbt_resource_starts_no_dbt_version_subprocess_and_builds_no_adapter(monkeypatch):
    """dagster-dbt would run `dbt --version` and build a dbt adapter in-process before each invocation
    (about 6 s per refresh); the project's resource takes the version of the installed dbt-core instead."""
    import importlib.metadata

    import dagster_dbt.core.resource as dagster_dbt_resource

    from orchestration.defs.resources import RESOURCES

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"subprocess started: {args}")

    # the two private dagster-dbt members overridden; an upgrade that renames them would leave the overrides unused
    assert {"_cli_version", "_initialize_dbt_core_adapter"} <= set(vars(dagster_dbt_resource.DbtCliResource))
    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_subprocess)
    resource = RESOURCES["dbt"].model_copy()
    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")
    assert resource._cli_version.major < 2  # dbt Core, not Fusion: dagster-dbt parses its structured logs
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_a_dbt_stage_takes_the_newest_parse_another_stage_of_the_data_root_saved(tmp_path):
    """dbt parses the project fully (about 2.6 s) when a target folder has no parse made for this profile;
    the second stage of a new data root reuses the first one's."""
    import os

    from orchestration.defs.resources import PARTIAL_PARSE_FILE, share_partial_parse

    harmonise, analysis = tmp_path / "harmonise", tmp_path / "analysis"
    assert share_partial_parse(harmonise) is None  # nothing parsed yet: dbt parses
    harmonise.mkdir()
    (harmonise / PARTIAL_PARSE_FILE).write_bytes(b"parse 1")
    os.utime(harmonise / PARTIAL_PARSE_FILE, (1_000, 1_000))

    assert share_partial_parse(analysis) == harmonise / PARTIAL_PARSE_FILE
    assert (analysis / PARTIAL_PARSE_FILE).read_bytes() == b"parse 1"
    assert share_partial_parse(analysis) is None  # already as new as any other

    (analysis / PARTIAL_PARSE_FILE).write_bytes(b"parse 2")  # analysis parsed after a model changed
    os.utime(analysis / PARTIAL_PARSE_FILE, (2_000, 2_000))
    assert share_partial_parse(harmonise) == analysis / PARTIAL_PARSE_FILE
    assert (harmonise / PARTIAL_PARSE_FILE).read_bytes() == b"parse 2"
    assert sorted(path.name for path in harmonise.iterdir()) == [PARTIAL_PARSE_FILE]  # no temporary left


def test_a_parse_made_ahead_on_a_new_data_root_is_the_one_the_first_stage_s_build_reads(tmp_path, monkeypatch):
    """A refresh parses the project for a new data root while it ingests; the first dbt stage must then read
    that parse rather than parse the whole project again (dbt rejects a parse made for another profile)."""
    from orchestration.defs.resources import (DBT_STAGES, NO_JSON_ARTEFACTS, PARTIAL_PARSE_FILE, RESOURCES,
                                              build_profiles_dir, dbt_target_dir, parse_ahead)

    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path / "root"))
    parsing = parse_ahead()
    assert parsing is not None and parsing.wait() == 0
    first = Path(dbt_target_dir()) / DBT_STAGES[0]
    assert (first / PARTIAL_PARSE_FILE).exists()
    assert parse_ahead() is None  # a saved parse exists: dbt re-parses only what changed

    dbt = RESOURCES["dbt"].model_copy(update={"profiles_dir": str(build_profiles_dir())})

    def parse_events(target: Path) -> list[str]:
        invocation = dbt.cli(["ls", NO_JSON_ARTEFACTS, "--select", "stg_survey__invitations"], target_path=target,
                             raise_on_error=False)  # as the stage's build runs, without JSON artefacts
        events = [event.raw_event["info"]["name"] for event in invocation.stream_raw_events()]
        assert invocation.is_successful()
        return events

    assert "UnableToPartialParse" not in parse_events(first)
    # the control: a stage folder given no parse gets the packaged one, made for another profile, and parses all
    assert "UnableToPartialParse" in parse_events(Path(dbt_target_dir()) / "elsewhere")


def test_the_catalogue_s_first_generation_reads_the_parse_made_ahead_for_it(tmp_path, monkeypatch):
    """The catalogue's profile points at a copy of the published file, so its first generation on a data root
    parses the whole project unless a parse was made ahead for it (a refresh makes one while it ingests)."""
    from orchestration.defs.resources import parse_catalogue_ahead
    from panel_report import catalogue, catalogue_dir

    published = tmp_path / "published.duckdb"
    con = duckdb.connect(str(published))
    con.execute("create schema marts; create table marts.attrition (n integer); comment on table marts.attrition is 'A.'")
    con.close()

    def generation_log(root: str, ahead: bool) -> str:
        monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path / root))
        if ahead:
            parsing = parse_catalogue_ahead()
            assert parsing is not None and parsing.wait() == 0
            assert parse_catalogue_ahead() is None  # saved: later generations parse only what changed
        log = catalogue.work_dir(catalogue_dir()) / "dbt.log"
        parsed = log.stat().st_size if log.exists() else 0  # the parse ahead logs its own full parse here
        catalogue.render_catalogue(published, catalogue_dir())  # would wait forever if the lock were kept
        return log.read_bytes()[parsed:].decode(errors="replace")

    assert "Unable to do partial parsing" not in generation_log("ahead", ahead=True)
    assert "Unable to do partial parsing" in generation_log("control", ahead=False)


def test_dbt_is_pointed_at_the_data_root_s_build_file_without_touching_the_environment(tmp_path, monkeypatch):
    """The issue asks that no environment variable be mutated to steer dbt: each data root gets its own
    profiles folder, the project's profile with the build file's path."""
    import os

    import yaml

    from orchestration.defs.resources import build_profiles_dir

    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path / "root"))
    monkeypatch.delenv("PANEL_BUILD_DB", raising=False)
    monkeypatch.delenv("DBT_INDIRECT_SELECTION", raising=False)
    before = dict(os.environ)
    folder = build_profiles_dir()
    profiles = yaml.safe_load((folder / "profiles.yml").read_text())
    output = profiles["panel_warehouse"]["outputs"]["build"]
    assert output["path"] == str(tmp_path / "root" / "build" / "warehouse.duckdb")
    assert output["type"] == "duckdb" and profiles["panel_warehouse"]["target"] == "build"
    assert dict(os.environ) == before
    written = (folder / "profiles.yml").stat().st_mtime_ns
    assert build_profiles_dir() == folder and (folder / "profiles.yml").stat().st_mtime_ns == written
