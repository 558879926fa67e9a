"""The refresh's later imports, done during dbt's first build: what they load, and that a failing one stops nothing."""
import importlib.util
import sys

from orchestration import warm_imports
from orchestration.warm_imports import LATER_STEP_MODULES, import_requested, request


def test_every_module_named_for_warming_exists():
    # a renamed module would silently stop being warmed: the refresh would only get slower
    missing = [name for name in LATER_STEP_MODULES if importlib.util.find_spec(name) is None]
    assert missing == []


def test_requested_modules_are_imported_once_past_one_that_fails(tmp_path, monkeypatch):
    (tmp_path / "warm_first.py").write_text("VALUE = 1\n")
    (tmp_path / "warm_broken.py").write_text("raise RuntimeError('broken on import')\n")
    (tmp_path / "warm_last.py").write_text("VALUE = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("warm_first", "warm_broken", "warm_last"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(warm_imports, "_requested", ())

    assert import_requested() == []  # nothing requested (a run the daemon launched): nothing imported
    request(["warm_first", "warm_broken", "warm_last"])
    assert import_requested() == ["warm_first", "warm_last"]
    assert sys.modules["warm_first"].VALUE == 1 and sys.modules["warm_last"].VALUE == 2
    assert "warm_broken" not in sys.modules  # left for the step's own import to raise
    assert import_requested() == []  # once: the second dbt build imports nothing

