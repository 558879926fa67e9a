"""Resources: the build DuckDB file and the dbt CLI, both resolved from `PANEL_DATA_DIR` at run time."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from orchestration import warm_dbt
from orchestration.defs.dbt_project import dbt_executable, dbt_project
from orchestration.publish import create_build_file
from panel_ingest import paths

# DuckDB allows one writer process per file; another process holding it shows up as this error.
LOCK_ERROR_HINT = "lock"
LOCK_RETRIES = 3
LOCK_RETRY_SECONDS = 10


class BuildDatabase(dg.ConfigurableResource):
    """The build file `$PANEL_DATA_DIR/build/warehouse.duckdb` that every writer uses.

    The path is read at run time, not at definition time, so one code location serves any data root.
    """

    def path(self) -> str:
        """Absolute path of the build file (its folder is created on demand)."""
        build = paths.build_db_path()
        build.parent.mkdir(parents=True, exist_ok=True)
        return str(build)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the build file, closed on exit so dbt's subprocess can open it next.

        A lock held by another process is a transient failure: the step is retried after a pause.
        """
        try:
            if not read_only and not Path(self.path()).exists():
                create_build_file(Path(self.path()))  # a daemon run's first writer: as a refresh creates it
            con = duckdb.connect(self.path(), read_only=read_only)
        except duckdb.IOException as error:
            if LOCK_ERROR_HINT in str(error).lower():
                raise dg.RetryRequested(max_retries=LOCK_RETRIES, seconds_to_wait=LOCK_RETRY_SECONDS) from error
            raise
        try:
            yield con
        finally:
            con.close()


def build_profiles_dir() -> Path:
    """A dbt profiles folder for the current data root: the project's `profiles.yml` with every output's
    `path` set to this root's build file, so dbt is pointed at it without setting `PANEL_BUILD_DB` in the
    process environment (one code location serves any data root, and a refresh mutates no environment).

    The file is rewritten only when it changes. (Test selection is set in `dbt_project.yml`: `flags:
    indirect_selection: buildable`.)
    """
    import yaml

    profiles = yaml.safe_load((paths.DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    build = BuildDatabase().path()
    for profile in profiles.values():
        for output in profile["outputs"].values():
            output["path"] = build
    folder = paths.data_dir() / "dbt_profiles"
    folder.mkdir(parents=True, exist_ok=True)
    text = "# Written by orchestration.defs.resources.build_profiles_dir for this data root; edit dbt_project/profiles.yml.\n"
    text += yaml.safe_dump(profiles, sort_keys=False)
    target = folder / "profiles.yml"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        partial = target.with_suffix(".tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    return folder


def dbt_target_dir() -> str:
    """dbt artefacts of runs go under the data root, so parallel data roots never share a target dir."""
    target = paths.data_dir() / "dbt_target"
    target.mkdir(parents=True, exist_ok=True)
    return str(target)


# dbt's JSON artefacts in a stage's target folder (manifest.json, run_results.json, graph.gpickle) are read by
# nothing here: Dagster reads dbt's events from its output, the definitions use the packaged project's manifest
# and the catalogue writes its own. Writing them cost about 0.3 s of CPU per build. dbt's log (`dbt.log`
# beside them) still records every node, and the saved parse is written as before.
NO_JSON_ARTEFACTS = "--no-write-json"

# dbt's saved parse of the project, which it reuses when the project files and the profile are unchanged.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
DBT_STAGES = ("harmonise", "analysis")


def share_partial_parse(target: Path) -> Path | None:
    """Give the stage whose dbt target folder is `target` the newest parse any stage of this data root saved.

    Each stage has its own target folder, and dbt parses the whole project again (about 2.6 s) when a
    folder's saved parse was made for another profile, as the packaged one is (its build file path
    differs). The first stage of a new data root parses fully; with this, the second does not. dbt still
    checks every file against the saved parse, so a stale one costs a re-parse, never a wrong manifest.
    Returns the file copied, if any.
    """
    own = target / PARTIAL_PARSE_FILE
    others = [target.parent / stage / PARTIAL_PARSE_FILE for stage in DBT_STAGES if stage != target.name]
    newest = max((path for path in others if path.exists()), key=lambda path: path.stat().st_mtime, default=None)
    if newest is None or (own.exists() and own.stat().st_mtime >= newest.stat().st_mtime):
        return None
    target.mkdir(parents=True, exist_ok=True)
    partial = own.with_suffix(".tmp")
    shutil.copy2(newest, partial)
    os.replace(partial, own)
    return newest


class BackgroundParse:
    """`dbt parse` running in its own process; `wait()` for it before what it parsed for runs dbt. `release` is
    called once it has ended (the catalogue's lock)."""

    def __init__(self, process: subprocess.Popen, release: Callable[[], object] = lambda: None) -> None:
        self.process = process
        self._release = release
        self._drain = threading.Thread(target=process.stdout.read, name="dbt-parse-output", daemon=True)
        self._drain.start()  # dbt's lines go to its log file too; a full pipe must never stop it

    def wait(self) -> int:
        try:
            returncode = self.process.wait()
            self._drain.join()
            self.process.stdout.close()
            return returncode
        finally:
            self._release()


def parse_ahead(start: Callable[..., subprocess.Popen] = subprocess.Popen) -> BackgroundParse | None:
    """On a data root where no dbt stage saved a parse yet, start `dbt parse` for the first stage now, as its
    build would run it (same project, profile and environment), so that the build reads the saved parse
    instead of parsing the whole project first (about 3 s). A refresh starts it before ingesting, which it
    overlaps; `dbt parse` opens no database. None when a stage has a saved parse: dbt then re-parses only
    what changed. If the parse fails, the build simply parses again."""
    targets = [Path(dbt_target_dir()) / stage for stage in DBT_STAGES]
    if any((target / PARTIAL_PARSE_FILE).exists() for target in targets):
        return None
    first = targets[0]
    first.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "DBT_TARGET_PATH": str(first), "DBT_LOG_PATH": str(first), "DBT_LOG_FORMAT": "json",
                   "DBT_PROFILES_DIR": str(build_profiles_dir()), "DBT_PROJECT_DIR": str(dbt_project.project_dir),
                   "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return BackgroundParse(start([dbt_executable(), "--no-use-colors", "parse", NO_JSON_ARTEFACTS], env=environment,
                                 cwd=dbt_project.project_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))


def parse_catalogue_ahead(start: Callable[..., subprocess.Popen] = subprocess.Popen) -> BackgroundParse | None:
    """The data catalogue's `dbt parse` on a data root whose catalogue never parsed (its first generation would
    parse the whole project: its profile points at a copy of the published file, not at the build), held under
    the catalogue's lock until it ends (panel_report.catalogue.parse_ahead_command)."""
    from panel_report import catalogue, catalogue_dir

    ahead = catalogue.parse_ahead_command(catalogue_dir())
    if ahead is None:
        return None
    command, environment, folder = ahead
    lock = ExitStack()
    lock.enter_context(catalogue.exclusive(catalogue_dir()))
    try:
        process = start(command, env=environment, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except BaseException:
        lock.close()
        raise
    return BackgroundParse(process, lock.close)


class PanelDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI without two start-up costs this project never uses (about 6 s per refresh):

    - the version of dbt is that of the dbt-core package installed beside Dagster (the executable is this
      environment's, `dbt_executable()`), not asked of a `dbt --version` subprocess;
    - no dbt adapter is built inside the Dagster process before each invocation: dagster-dbt needs one only
      to fetch row counts or column metadata after the run, which this project does not ask for.
    """

    @cached_property
    def _cli_version(self):
        from dbt.version import __version__
        from packaging import version

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):
        return None

    def cli(self, args: Sequence[str], **kwargs):
        """dagster-dbt's `cli`, started in a dbt process the refresh made ready in advance, if it did
        (orchestration.warm_dbt): the same command, environment and folder, without dbt's 2 s of imports."""
        from dagster_dbt.core import dbt_cli_invocation

        with warm_dbt.serving(dbt_cli_invocation):
            return super().cli(args, **kwargs)


RESOURCES = {
    "build_db": BuildDatabase(),
    # No colour codes: dbt's lines are re-emitted by dagster-dbt into the refresh's log file, not a terminal.
    "dbt": PanelDbtCliResource(
        project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir), dbt_executable=dbt_executable(),
        global_config_flags=["--no-use-colors"],
    ),
}
