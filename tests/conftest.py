"""Shared fixtures: one generated and refreshed warehouse for every end-to-end test of the session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # so plain `pytest` works as well as `python -m pytest`
    sys.path.insert(0, str(PROJECT_ROOT))

# The default synthetic data set: the published figures (Table 1 exactly) are checked on it.
DEMO_SCALE = os.environ.get("PANEL_TEST_SCALE", "1")
DEMO_SEED = "20220601"  # the defaults of `make demo`, so the tests check what the demo shows
TEST_HMAC_KEY = "test-key-for-synthetic-data-only-0123456789abcdef"
REFRESH_TIMEOUT_SECONDS = 1800
# Every refresh of the suite builds everything, so a test of what a refresh does on data it saw before (a
# second refresh, a crash, a restore) tests that rather than the skip of unchanged inputs; the skip and the
# reuse of unchanged partitions are tested in tests/test_orchestration_incremental.py, which unsets this.
os.environ["PANEL_REFRESH_FULL"] = "1"


def panel_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of a pipeline subprocess working on `data_dir`, with its own Dagster home."""
    env = {**os.environ, "PANEL_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home"),
           "PANEL_HMAC_KEY": TEST_HMAC_KEY, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
           "PYTHONDONTWRITEBYTECODE": "1", **extra}
    env.pop("PANEL_ALERT_WEBHOOK", None)
    return env


def generate_raw(data_dir: Path, scale: str = DEMO_SCALE, seed: str = DEMO_SEED) -> Path:
    """Write the synthetic raw files into `data_dir/raw` (the generator of `make generate`)."""
    subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(data_dir / "raw"), "--scale", scale,
                    "--seed", seed], check=True, cwd=PROJECT_ROOT, env=panel_env(data_dir), capture_output=True)
    return data_dir / "raw"


def refresh_subprocess(data_dir: Path, **extra_env: str) -> subprocess.CompletedProcess:
    """`make refresh` on `data_dir`: `python -m orchestration.refresh` with the Makefile's Dagster home."""
    home = Path(data_dir) / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return subprocess.run([sys.executable, "-m", "orchestration.refresh"], cwd=PROJECT_ROOT, text=True,
                          capture_output=True, env=panel_env(Path(data_dir), **extra_env),
                          timeout=REFRESH_TIMEOUT_SECONDS)


@pytest.fixture(scope="session")
def run_refresh() -> Callable[..., subprocess.CompletedProcess]:
    """A function `run_refresh(data_dir, **env) -> CompletedProcess` running a full refresh in a subprocess."""
    return lambda data_dir, **env: refresh_subprocess(Path(data_dir), **env)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    """A data dir with generated raw files (the default data set) and a published warehouse; shared by the session.

    Tests must not modify it except through a full refresh (which must leave the marts unchanged);
    copy it (see `copy_data_dir`) to try anything else.
    """
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    generate_raw(data_dir)
    result = refresh_subprocess(data_dir)
    if result.returncode != 0:
        pytest.fail(f"the demo refresh failed (exit {result.returncode}):\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}")
    return data_dir


def copy_data_dir(source: Path, target: Path) -> Path:
    """A private copy of a data dir (raw files, build and published warehouse, Dagster home)."""
    shutil.copytree(source, target, symlinks=True)
    return target
