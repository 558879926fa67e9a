"""`make refresh`: ingest every raw folder, build everything downstream, publish only if every blocking check passed.

    python -m orchestration.refresh

Uses the Dagster instance in `$DAGSTER_HOME` (ephemeral if unset), so refresh runs show up in the UI.
Exit status: 0 everything built, every blocking check passed and the warehouse was published;
1 a check or step failed (the published warehouse is untouched; the failures are printed);
2 the refresh could not start (no key, a key file inside the data root, no raw data);
3 published, but with broken partitions held back at their last good version.

Nothing is rebuilt when no input changed since the published release (same raw files, code, key and
settings; orchestration.build_inputs): the refresh says so and exits 0. Otherwise every changed partition is
ingested (one run each) before anything is decided, so every broken file is reported; an unchanged one is
copied from the published warehouse instead, and when every wave (or every UDI snapshot) was, so is what
only they feed (orchestration.unchanged). `PANEL_REFRESH_FULL=1` (`make refresh FULL=1`) rebuilds all.
A partition whose ingest step or blocking ingest check failed is held back (orchestration.holdback): its
rows in the new build are those of the published warehouse, or none if it never loaded good; the rest
builds, is checked and published as usual, and the held-back partitions are named in the console summary,
the release manifest (`held_back`) and the alert record. A failed step or check downstream of ingest
still publishes nothing (status 1). `make refresh` reports the status in its last line, but make itself
can only exit 0 or 2; a scheduler that needs the exact status runs `bin/refresh`.

A refresh killed half-way (SIGKILL, power loss) leaves the published warehouse as it was. Whatever it
left behind is cleared by the next refresh, with a message: the Dagster concurrency slots its runs held
(which would otherwise make every later refresh wait forever), its runs still marked as running, and the
temporary files of a publication or restore.
"""
from __future__ import annotations

import fcntl
import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
import yaml
from dagster._core.events import DagsterEventType
from dagster._core.instance.ref import InstanceRef

from orchestration.defs.partitions import SURVEY_WAVE_PARTITIONS, UDI_SNAPSHOT_PARTITIONS
from orchestration.instance import refresh_overrides
from orchestration.failures import Failure, run_failures
from orchestration import build_inputs
from orchestration.holdback import (INGEST_ASSET_OF_KIND, KIND_OF_JOB, HeldBack, create_held_back_table, hold_back,
                                   reuse_published)
from orchestration.exports import exports_dir
from orchestration import progress, unchanged, warm_dbt, warm_imports
from orchestration.process_exit import exit_without_teardown
from orchestration.publish import create_build_file, remove_stale_staging
from orchestration.releases import published_build_inputs, published_release_id, releases_dir
from linkage.schema import carry_over_assignments
from panel_ingest import paths
from panel_report import catalogue_dir, report_dir
from panel_ingest.discover import find_survey_waves, find_udi_snapshots
from panel_ingest.secrets import KeyInsideDataRootError, MissingHmacKeyError, load_hmac_key

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_START, EXIT_HELD_BACK = 0, 1, 2, 3


class RefreshCannotStart(RuntimeError):
    """Nothing was built: configuration or input is missing."""


@dataclass
class RefreshResult:
    """What a refresh did: its runs, the failures that blocked publication, the partitions held back
    (their ingest failures are in `held_back`, not in `failures`), and warnings."""

    run_ids: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    held_back: list[HeldBack] = field(default_factory=list)
    published: bool = False
    unchanged_since: str | None = None  # nothing changed since this published release: nothing was rebuilt
    reused: list[str] = field(default_factory=list)  # `<kind>/<key>` partitions copied from the published file

    @property
    def success(self) -> bool:
        return (self.published or self.unchanged_since is not None) and not self.failures


INSTANCE_CONFIG = Path(__file__).with_name("dagster.yaml")


def refresh_instance() -> dg.DagsterInstance:
    """The persistent instance in `$DAGSTER_HOME` when set (created with the project's dagster.yaml if
    new), else an ephemeral one. Its storage keeps its files open and it captures no compute logs (the
    refresh's output goes to its log file), unless dagster.yaml chooses otherwise (orchestration.instance)."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    config_file = Path(home) / "dagster.yaml"
    if not config_file.exists():
        shutil.copy(INSTANCE_CONFIG, config_file)
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    ref = InstanceRef.from_dir(home, overrides=refresh_overrides(Path(home), config))
    return dg.DagsterInstance.from_ref(ref)


@contextmanager
def exclusive_refresh(build: Path) -> Iterator[None]:
    """One refresh per data root at a time: a second one would delete the build file under the first."""
    build.parent.mkdir(parents=True, exist_ok=True)
    with open(build.parent / ".refresh.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshCannotStart(f"another refresh is running on {build.parent.parent}") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


EXPECTED_LAYOUT = """the refresh reads this layout (docs/contracts/inputs.md):
  {raw}/survey/w<N>_<YYYY>/responses.(csv|xlsx|sav)   one folder per wave: w, its number, _, the year fielded
  {raw}/survey/w<N>_<YYYY>/invitations.csv            optional
  {raw}/udi/<YYYY-MM-DD>/...                           one folder per UDI retrieval date
For synthetic data to try it on: make generate PANEL_DATA_DIR={root}"""


def find_partitions(raw: Path) -> tuple[list[str], list[str]]:
    """The wave and UDI snapshot folders to ingest; RefreshCannotStart when there is neither."""
    waves, snapshots = find_survey_waves(raw), find_udi_snapshots(raw)
    if not waves and not snapshots:
        raise RefreshCannotStart(
            f"no wave folder under {raw / 'survey'} and no snapshot folder under {raw / 'udi'}; "
            + EXPECTED_LAYOUT.format(raw=raw, root=raw.parent))
    return waves, snapshots


def register_partitions(instance: dg.DagsterInstance, raw: Path) -> tuple[list[str], list[str]]:
    """Add a partition for every wave and UDI snapshot folder that is not one yet; return both lists."""
    waves, snapshots = find_partitions(raw)
    for name, keys in ((SURVEY_WAVE_PARTITIONS, waves), (UDI_SNAPSHOT_PARTITIONS, snapshots)):
        known = set(instance.get_dynamic_partitions(name))
        new = [key for key in keys if key not in known]
        if new:
            instance.add_dynamic_partitions(name, new)
    return waves, snapshots


REFRESH_TRIGGER = {"panel/trigger": "refresh"}


def release_stale_claims(instance: dg.DagsterInstance, log=print) -> list[str]:
    """Free what runs of a dead refresh still hold, so this refresh does not wait for them forever.

    Called with the data root's refresh lock held, so no other refresh is alive: a refresh run that is
    not finished was killed. Its `duckdb_build` pool slots are freed and it is marked failed. Slots still
    held by any finished run (whatever started it) are freed too. Returns the run ids released.
    """
    storage = instance.event_log_storage
    try:
        claimed = storage.get_concurrency_run_ids()
    except NotImplementedError:  # an instance without concurrency pools (ephemeral) has nothing to free
        return []
    released = []
    for run_id in sorted(claimed):
        run = instance.get_run_by_id(run_id)
        dead_refresh = run is not None and not run.is_finished and run.tags.get("panel/trigger") == "refresh"
        if run is not None and not run.is_finished and not dead_refresh:
            continue  # a daemon run still in progress owns its slot
        if dead_refresh:
            instance.report_run_failed(run, "the refresh that ran it was killed; marked failed by the next refresh")
        storage.free_concurrency_slots_for_run(run_id)
        released.append(run_id)
        log(f"released the concurrency slots of run {run_id} ({'killed refresh' if dead_refresh else 'finished run'})")
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
                                               tags=REFRESH_TRIGGER)):
        if run.run_id not in released:  # killed before it claimed a slot: still shown as running
            instance.report_run_failed(run, "the refresh that ran it was killed; marked failed by the next refresh")
            released.append(run.run_id)
            log(f"marked run {run.run_id} of a killed refresh as failed")
    return released


def clear_leftovers(instance: dg.DagsterInstance, log=print) -> None:
    """Everything a killed refresh may have left behind (see the module docstring), with a message for each."""
    release_stale_claims(instance, log)
    for path in remove_stale_staging():
        log(f"removed {path}, left by a refresh or restore that was killed")


def start_fresh_build(build: Path) -> None:
    """A full refresh builds a new file, so nothing from an earlier build (e.g. a deleted folder) lingers.

    Only the published panel's person assignments are carried over, so existing persons keep their ids
    and a new wave is linked against them rather than relinking every wave. `audit.held_back_partitions`
    is there from the start, empty until a partition is held back: a build that ingests nothing (every
    partition reused) has the same tables as one that does, so its catalogue is not generated again.
    """
    for leftover in (build, build.with_name(build.name + ".wal")):
        leftover.unlink(missing_ok=True)
    create_build_file(build)  # in the published storage version: publishing it is a copy, not a conversion
    con = duckdb.connect(str(build))
    try:
        carry_over_assignments(con, paths.published_db_path())
        create_held_back_table(con)
    finally:
        con.close()


def _execute(job: dg.JobDefinition, instance: dg.DagsterInstance, result: RefreshResult,
             **kwargs) -> tuple[dg.ExecuteInProcessResult, list[Failure]]:
    """Run the job; returns the run and its failures (also added to `result.failures`). Under
    `python -m orchestration.refresh` its steps show as progress lines (orchestration.progress); every
    event is stored in the instance's event log either way."""
    with progress.watch_run(instance, job, kwargs.get("partition_key")) as run_id:
        run = job.execute_in_process(instance=instance, raise_on_error=False, tags=REFRESH_TRIGGER,
                                     run_config=progress.dagster_logging(), run_id=run_id, **kwargs)
    result.run_ids.append(run.run_id)
    failures = run_failures(instance, run.run_id)
    if not run.success and not failures:
        failures.append(Failure("run", job.name, kwargs.get("partition_key"), "run failed without a step error"))
    result.failures += failures
    result.warnings += _warnings(instance, run.run_id, job)
    return run, failures


def _warnings(instance: dg.DagsterInstance, run_id: str, job: dg.JobDefinition) -> list[str]:
    """Failed non-blocking checks, then the warnings the project's own steps logged (an empty UDI folder,
    a file's quarantine note), which would otherwise be seen only in the log file."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    lines = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN:
            lines.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}: {evaluation.description}")
    return lines + progress.user_warnings(instance, run_id, job)


def refresh(instance: dg.DagsterInstance | None = None, log=print) -> RefreshResult:
    """Skip the refresh if nothing changed since the published release; else ingest every changed partition
    (one run each; unchanged ones are copied from the published file), then build, check and publish
    everything downstream in one run, or two when the weights may come out as published (`_build_downstream`;
    orchestration.build_inputs says what counts as changed)."""
    key = load_hmac_key(paths.data_dir())  # fail before touching anything if the key is missing
    waves, snapshots = find_partitions(paths.raw_dir())
    with exclusive_refresh(paths.build_db_path()):
        instance = instance or refresh_instance()
        clear_leftovers(instance, log)
        inputs = build_inputs.fingerprint(key, {"survey": waves, "udi": snapshots})
        before, held_back = published_build_inputs() if not build_inputs.full_refresh_requested() else ({}, set())
        if build_inputs.nothing_changed(inputs, before, held_back) and published_outputs_current():
            release_id = published_release_id()
            log(f"nothing changed since release {release_id} (same raw files, code, key and settings): "
                f"{paths.published_db_path()} is current; {build_inputs.FULL_REFRESH}=1 rebuilds it anyway")
            return RefreshResult(unchanged_since=release_id)
        with warm_dbt.WarmDbtProcesses():  # dbt's imports in another process, from now on: on another core
            from orchestration.definitions import defs  # loads the dbt manifest: only when something is built

            register_partitions(instance, paths.raw_dir())
            reuse = build_inputs.reusable_partitions(inputs, before, held_back)
            return _build_and_publish(defs, instance, waves, snapshots, log, inputs, reuse,
                                      before.get("partitions", {}) if reuse else {})


def published_outputs_current() -> bool:
    """The report and catalogue were rendered from the published file: a step after the publication may
    have failed, and a skipped refresh would leave them stale."""
    published = paths.published_db_path()
    outputs = (report_dir() / "index.html", catalogue_dir() / "index.html")
    return published.exists() and all(
        output.exists() and output.stat().st_mtime >= published.stat().st_mtime for output in outputs)


def _build_and_publish(defs: dg.Definitions, instance: dg.DagsterInstance, waves: list[str], snapshots: list[str],
                       log, inputs: dict | None = None, reuse: set[str] = frozenset(),
                       published_partitions: dict | None = None) -> RefreshResult:
    build = paths.build_db_path()
    start_fresh_build(build)
    build_inputs.write_sidecar(build, inputs or {})
    try:
        return _ingest_build_and_publish(defs, instance, waves, snapshots, log, reuse, published_partitions or {})
    finally:
        build_inputs.sidecar_path(build).unlink(missing_ok=True)  # never left for a later (daemon) build


def _ingest_build_and_publish(defs: dg.Definitions, instance: dg.DagsterInstance, waves: list[str],
                              snapshots: list[str], log, reuse: set[str], published_partitions: dict) -> RefreshResult:
    from orchestration.defs.resources import parse_ahead, parse_catalogue_ahead  # imports dagster-dbt

    result = RefreshResult()
    warm = warm_dbt.active()
    start = warm.popen if warm else subprocess.Popen
    parsing = [parse for parse in (parse_ahead(start), parse_catalogue_ahead(start)) if parse is not None]
    try:
        with build_file_kept_open(paths.build_db_path()) as build_file:
            _ingest(defs, instance, waves, snapshots, log, reuse, result, build_file)  # overlapped by the parses on a new data root
    finally:
        for parse in parsing:
            parse.wait()
    skip = _skip_what_only_unchanged_sources_feed(defs, waves, snapshots, published_partitions, result, log)
    if warm:
        warm.expect(dbt_builds_ahead(skip))
    # imported while dbt's builds work in their own process, each what the next steps need; with every wave as
    # published the weights' inputs most likely are too, and the weights are copied without statsmodels
    weights_likely_copied = skip is not None and PIVOT_CHANGES_WITH not in skip[1]
    warm_imports.request(warm_imports.without([warm_imports.WEIGHTING]) if weights_likely_copied
                         else warm_imports.LATER_STEP_MODULES)
    run = _build_downstream(defs, instance, result, skip, log)
    # published even if a step after the publication (report, catalogue) failed: the report must say so
    result.published = any(
        event.asset_key == dg.AssetKey("published_warehouse") for event in run.get_asset_materialization_events()
    )
    log(progress.detail(f"{'ok    ' if run.success else 'FAILED'} downstream_job (dbt, linkage, weights, checks, "
                        "publication)"))
    return result


def dbt_builds_ahead(skip: tuple[list, list] | None) -> int:
    """How many `dbt build`s the downstream run(s) will start: one per dbt stage with an asset to build."""
    from orchestration.defs.assets.dbt import dbt_analysis, dbt_harmonise

    stages = (dbt_harmonise, dbt_analysis)
    if skip is None:
        return len(stages)
    selected = set(skip[0])
    return sum(1 for stage in stages if selected & set(stage.keys))


class KeptOpen:
    """The connection `build_file_kept_open` holds, and what a fatal DuckDB error in a step needs of it."""

    def __init__(self, build: Path) -> None:
        self._build = build
        self._con = duckdb.connect(str(build))

    def reopen_if_invalidated(self) -> bool:
        """After a fatal DuckDB error (out of memory, an I/O error while writing) the shared database is
        invalidated: every connection to it, held or new, fails from then on, so every later partition would
        fail too. Once the failed step has closed its own connection, closing this one lets DuckDB drop the
        invalid database, and the file opens afresh (committed work is replayed from its log). True if so."""
        try:
            self._con.execute("SELECT 1").fetchall()
            return False
        except duckdb.FatalException:
            self._con.close()
            gc.collect()  # a connection left in a failed step's traceback would keep the invalid database
            self._con = duckdb.connect(str(self._build))
            return True

    def close(self) -> None:
        self._con.close()


@contextmanager
def build_file_kept_open(build: Path) -> Iterator[KeptOpen]:
    """One connection to the build file kept open while the partitions are ingested, one run each. DuckDB
    shares a file's database among all of a process's connections, so each ingest step's own connection
    finds it open: opening the file, and checkpointing it when the last connection closes, cost about 30 ms
    per connection (measured), for each of a cold refresh's 45 partitions. Closed, and so checkpointed,
    before dbt's processes open the file. (A database attached on one connection stays attached to the
    shared one: orchestration.holdback detaches what it attaches.) The caller asks it to reopen the file
    after each partition's run (`KeptOpen.reopen_if_invalidated`)."""
    kept = KeptOpen(build)
    try:
        yield kept
    finally:
        kept.close()


def _ingest(defs: dg.Definitions, instance: dg.DagsterInstance, waves: list[str], snapshots: list[str], log,
            reuse: set[str], result: RefreshResult, build_file: KeptOpen) -> None:
    """Copy every reusable partition from the published file, ingest the others (one run each) and hold back
    those that fail."""
    for job_name, keys in (("survey_wave_job", waves), ("udi_snapshot_job", snapshots)):
        job = defs.resolve_job_def(job_name)
        kind = KIND_OF_JOB[job_name]
        reused = set(reuse_published(paths.build_db_path(), paths.published_db_path(), kind,
                                     [key for key in keys if f"{kind}/{key}" in reuse]))
        result.reused += [f"{kind}/{key}" for key in keys if key in reused]
        for key in (key for key in keys if key not in reused):
            run, failures = _execute(job, instance, result, partition_key=key)
            log(progress.detail(f"{'ok    ' if run.success else 'FAILED'} {job_name} [{key}]"))
            if build_file.reopen_if_invalidated():  # before hold_back, which opens the file too
                log(progress.detail(f"reopened the build file after a fatal DuckDB error in {job_name} [{key}]"))
            if failures:
                result.failures = [f for f in result.failures if f not in failures]
                result.held_back.append(hold_back(
                    paths.build_db_path(), paths.published_db_path(), kind, key,
                    "; ".join(failure.line() for failure in failures), published_release_id()))
                log(f"HELD BACK {result.held_back[-1].line()}")
    if result.reused:
        log(f"reused {len(result.reused)} unchanged partition(s) from the published warehouse instead of ingesting "
            "them again")


def _skip_what_only_unchanged_sources_feed(defs: dg.Definitions, waves: list[str], snapshots: list[str],
                                           published_partitions: dict, result: RefreshResult,
                                           log) -> tuple[list, list] | None:
    """When the waves (or the UDI snapshots) are all as published, copy what only they feed from the published
    file and return the assets left to build and the changed sources (orchestration.unchanged); None builds
    everything."""
    if not published_partitions or result.held_back:
        return None
    from orchestration.defs.assets.dbt import dbt_analysis, dbt_harmonise
    from orchestration.defs.jobs import DOWNSTREAM_SELECTION

    same = unchanged.unchanged_kinds({"survey": waves, "udi": snapshots}, published_partitions, result.reused)
    changed = [dg.AssetKey(asset) for kind, asset in INGEST_ASSET_OF_KIND.items() if kind not in same]
    graph = defs.resolve_asset_graph()
    plan = unchanged.plan(defs, DOWNSTREAM_SELECTION.resolve(graph), changed,
                          set(dbt_harmonise.keys) | set(dbt_analysis.keys))
    if plan is None:
        return None
    try:
        unchanged.copy_published(paths.build_db_path(), paths.published_db_path(), plan)
    except unchanged.PublishedLacks as lacking:
        log(progress.detail(f"building everything: {lacking}"))
        return None
    log(f"copied what only unchanged sources feed from the published warehouse ({plan.describe()}) instead of "
        "building it again")
    return plan.selection, changed


# Fed by both kinds of source, but a new UDI snapshot rarely changes it: each wave rakes to its nearest snapshot.
# A changed wave changes who is weighted, so then a run of its own would only cost time (measured: about 1 s).
PIVOT, PIVOT_CHANGES_WITH = dg.AssetKey("survey_weights"), dg.AssetKey("survey_wave")


def _build_downstream(defs: dg.Definitions, instance: dg.DagsterInstance, result: RefreshResult,
                      skip: tuple[list, list] | None, log) -> dg.ExecuteInProcessResult:
    """Everything downstream of ingest in one run; when part of it is skipped and every wave is as published,
    in two: the weights (and the dbt stage before them) first, then, if they came out as published, only
    what the changed sources feed, the rest copied from the published file (orchestration.unchanged)."""
    job = defs.resolve_job_def("downstream_job")
    if skip is None:
        return _execute(job, instance, result)[0]
    selection, changed = skip
    if PIVOT_CHANGES_WITH in changed:
        return _execute(job, instance, result, asset_selection=selection)[0]
    from orchestration.defs.assets.dbt import dbt_analysis, dbt_harmonise

    stages = unchanged.split_at(defs, selection, PIVOT, dbt_harmonise.keys)
    if stages is None:
        return _execute(job, instance, result, asset_selection=selection)[0]
    run, _ = _execute(job, instance, result, asset_selection=stages.first)
    if not run.success:
        return run
    build, published = paths.build_db_path(), paths.published_db_path()
    as_published = unchanged.schema_as_published(build, published, stages.schema)
    dbt_keys = set(dbt_harmonise.keys) | set(dbt_analysis.keys)
    rest = unchanged.after_pivot(defs, selection, stages, as_published, changed, dbt_keys)
    if not as_published:
        log(f"{stages.pivot.to_user_string()} changed: building everything it feeds")
    if rest.tables:
        try:
            unchanged.copy_published(build, published, rest)
            log(f"{stages.pivot.to_user_string()} came out as published: copied what only it and unchanged sources "
                f"feed ({rest.describe()}) instead of building it again")
        except unchanged.PublishedLacks as lacking:
            log(progress.detail(f"building everything left: {lacking}"))
            rest = unchanged.after_pivot(defs, selection, stages, False, changed, dbt_keys)
    return _execute(job, instance, result, asset_selection=rest.selection)[0]


def report(result: RefreshResult, out=print) -> int:
    """Print warnings and failures; return the exit status."""
    for warning in result.warnings:
        out(f"warning: {warning}")
    if result.unchanged_since is not None:
        return EXIT_OK  # the refresh said so as it decided
    if result.success:
        kept = f" (previous kept as {paths.previous_db_path().name})" if paths.previous_db_path().exists() else ""
        out(f"published {paths.published_db_path()}{kept}")
        release_id = published_release_id()
        if release_id:
            out(f"release {release_id}: {releases_dir() / release_id} (make releases lists them); "
                f"Parquet, Stata and SPSS files in {exports_dir()}")
        if not result.held_back:
            return EXIT_OK
        out(f"published WITH {len(result.held_back)} broken partition(s) held back (mend the file; the next "
            "refresh loads it):")
        for held in result.held_back:
            out(f"  - {held.line()}")
        return EXIT_HELD_BACK
    if result.published:
        out(f"refresh FAILED after publishing {paths.published_db_path()} (release {published_release_id()}): a step "
            "after the publication failed, so what it writes (report, catalogue) may be stale. What failed:")
    else:
        out(f"refresh FAILED; {paths.published_db_path()} was left untouched. What failed:")
    for failure in result.failures or [Failure("run", "downstream_job", None, "published_warehouse was not materialised")]:
        out(f"  - {failure.line()}")
    for held in result.held_back:  # broken partitions, also reported when something downstream failed
        out(f"  - {held.line()}")
    return EXIT_FAILED


def alert_on_failure(result: RefreshResult) -> Path | None:
    """A failed refresh, or one that published with partitions held back, leaves the same alert record as a
    failed daemon run (cron users see it too)."""
    if result.success and not result.held_back:
        return None
    from orchestration.defs.sensors import write_alert

    if result.success:
        failures, alert = [], "partitions_held_back"
    else:
        failures = result.failures or [Failure("run", "downstream_job", None, "published_warehouse was not materialised")]
        alert = "refresh_failed"
    held_back = [held.as_dict() for held in result.held_back]
    return write_alert({
        "alert": alert,
        "run_id": result.run_ids[-1] if result.run_ids else "none",
        "run_ids": result.run_ids,
        "failed_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "failures": [failure.as_dict() for failure in failures],
        "held_back": held_back,
        "summary": "; ".join([failure.line() for failure in failures] + [held.line() for held in result.held_back]),
    })


def main() -> int:
    """CLI entry point (`make refresh`): a progress line per stage on the console; Dagster's and dbt's own
    output (and any stack trace) in a log file under the data root, named at the start and after a failure."""
    log_file = progress.new_log_file()
    try:
        with progress.output_to_log(log_file) as console, \
                progress.showing(progress.Display(console, log=sys.stdout)) as shown:
            shown.line(f"refresh of {paths.data_dir()}; Dagster's and dbt's own output: {log_file}")
            try:
                result = refresh(log=shown.note)
            except (MissingHmacKeyError, KeyInsideDataRootError, RefreshCannotStart):
                raise
            except Exception:
                progress.log_stack_trace()
                shown.line(f"refresh FAILED with an unexpected error; {paths.published_db_path()} was left untouched")
                shown.line(f"the stack trace is in {log_file}")
                return EXIT_FAILED
            shown.finish()
            status = report(result, out=shown.line)
            alert = alert_on_failure(result)
            if alert:
                shown.line(f"alert written to {alert}")
            if status != EXIT_OK:
                shown.line(f"details (Dagster's and dbt's logs, stack traces): {log_file}")
            return status
    except (MissingHmacKeyError, KeyInsideDataRootError, RefreshCannotStart) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CANNOT_START


if __name__ == "__main__":
    exit_without_teardown(main())  # after the exit handlers, without a second spent freeing every module
