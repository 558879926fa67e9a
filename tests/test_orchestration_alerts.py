"""The run-failure sensor writes an alert record that names the failed check and why."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from orchestration.defs.sensors import run_failure_alert
from orchestration.failures import run_failures


@dg.asset(check_specs=[dg.AssetCheckSpec("rows_within_tolerance", asset="snapshot_like", blocking=True)])
def snapshot_like() -> dg.MaterializeResult:
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(
        check_name="rows_within_tolerance", passed=False, severity=dg.AssetCheckSeverity.ERROR,
        description="42 of 100 rows quarantined (42 %), above the tolerance of 5 %",
    )])


@pytest.fixture
def failed_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    with dg.instance_for_test() as instance:
        result = dg.materialize([snapshot_like], instance=instance, raise_on_error=False)
        assert not result.success
        yield instance, result


def sensor_context(instance, result):
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    return dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_event=failure, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    ).for_run_failure()


def test_failures_name_the_check_and_the_reason(failed_run):
    instance, result = failed_run
    failures = run_failures(instance, result.run_id)
    checks = [f for f in failures if f.kind == "check"]
    assert [c.name for c in checks] == ["snapshot_like:rows_within_tolerance"]
    assert "42 %" in checks[0].reason


def test_run_failure_sensor_writes_an_alert_record(failed_run, tmp_path, monkeypatch):
    monkeypatch.delenv("PANEL_ALERT_WEBHOOK", raising=False)
    instance, result = failed_run
    run_failure_alert(sensor_context(instance, result))
    [alert] = list((tmp_path / "alerts").glob("*.json"))
    record = json.loads(alert.read_text())
    assert record["run_id"] == result.run_id
    assert "snapshot_like:rows_within_tolerance" in record["summary"]
    assert "above the tolerance" in record["summary"]
    assert "webhook" not in record


def test_alert_is_posted_to_the_webhook_when_configured(failed_run, tmp_path, monkeypatch):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    monkeypatch.setenv("PANEL_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/alerts")
    instance, result = failed_run
    try:
        run_failure_alert(sensor_context(instance, result))
    finally:
        thread.join(timeout=30)
        server.server_close()
    assert [r["run_id"] for r in received] == [result.run_id]
    [alert] = list((tmp_path / "alerts").glob("*.json"))
    assert json.loads(alert.read_text())["webhook"] == "posted: HTTP 204"


def test_an_unreachable_webhook_is_noted_not_fatal(failed_run, tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_ALERT_WEBHOOK", "http://127.0.0.1:9/nothing-listens-here")
    instance, result = failed_run
    run_failure_alert(sensor_context(instance, result))
    [alert] = list((tmp_path / "alerts").glob("*.json"))
    assert json.loads(alert.read_text())["webhook"].startswith("not delivered")


def test_a_failed_ingest_run_alert_says_its_partition_is_held_back(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PANEL_ALERT_WEBHOOK", raising=False)
    job = dg.Definitions(assets=[snapshot_like], jobs=[dg.define_asset_job("udi_snapshot_job", [snapshot_like])]
                         ).resolve_job_def("udi_snapshot_job")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        run_failure_alert(sensor_context(instance, result))
    [alert] = list((tmp_path / "alerts").glob("*.json"))
    record = json.loads(alert.read_text())
    assert record["job"] == "udi_snapshot_job" and "held back" in record["held_back"]
    assert "snapshot_like:rows_within_tolerance" in record["summary"]


def test_a_failed_dbt_build_is_summarised_by_its_exit_code_and_dbt_s_own_errors():
    from orchestration.failures import short_dbt_failure

    long = ("dagster_dbt.errors.DagsterDbtCliRuntimeError: The dbt CLI process with command\n\n"
            "`dbt --no-use-colors build --exclude-resource-type unit_test --select " + "x " * 500 + "`\n\n"
            "failed with exit code `1`. Check the stdout in the Dagster compute logs for the full information "
            "about the error, or view the dbt debug log: /data/dbt_target/analysis/dbt.log.\n\n"
            "Errors parsed from dbt logs:\n\n"
            "Failure in test not_null_persons_person_id (models/marts/_persons.yml)\n\n"
            "  Got 2 results, configured to fail if != 0")
    short = short_dbt_failure(long)
    assert short == ("dbt build exited with code 1: Failure in test not_null_persons_person_id "
                     "(models/marts/_persons.yml); Got 2 results, configured to fail if != 0")
    without_errors = long.split("\n\nErrors parsed")[0]
    assert short_dbt_failure(without_errors) == "dbt build exited with code 1"
    assert short_dbt_failure("file raw/udi/x.csv row 3 column total: not a count") == \
        "file raw/udi/x.csv row 3 column total: not a count"


def test_an_alert_says_what_started_the_failed_run(tmp_path, monkeypatch):
    """Runs launched by declarative automation are all named __ASSET_JOB: the alert names their trigger."""
    from orchestration.defs.sensors import AUTOMATION_TRIGGER, automation_sensor

    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PANEL_ALERT_WEBHOOK", raising=False)
    assert automation_sensor.run_tags == AUTOMATION_TRIGGER
    with dg.instance_for_test() as instance:
        result = dg.materialize([snapshot_like], instance=instance, raise_on_error=False, tags=AUTOMATION_TRIGGER)
        run_failure_alert(sensor_context(instance, result))
    [alert] = list((tmp_path / "alerts").glob("*.json"))
    assert json.loads(alert.read_text())["trigger"] == "automation"
