"""The refresh's later imports, done during dbt's first build: what they load, and that a failing one stops nothing."""
import importlib.util
import sys

from orchestration import warm_imports
from orchestration.warm_imports import LATER_STEP_MODULES, import_requested, request


def test_every_module_named_for_warming_exists():
    # a renamed module would silently stop being warmed: the refresh would only get slower
    missing = [name for group in LATER_STEP_MODULES for name in group if importlib.util.find_spec(name) is None]
    assert missing == []


def test_each_build_imports_its_group_once_past_one_that_fails(tmp_path, monkeypatch):
    names = ("warm_first", "warm_broken", "warm_last", "warm_later")
    for name in names:
        source = "raise RuntimeError('broken on import')\n" if name == "warm_broken" else f"VALUE = {name!r}\n"
        (tmp_path / f"{name}.py").write_text(source)
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(warm_imports, "_requested", ())

    assert import_requested() == []  # nothing requested (a run the daemon launched): nothing imported
    request([["warm_first", "warm_broken", "warm_last"], ["warm_later"]])
    assert import_requested() == ["warm_first", "warm_last"]  # the first build's group only
    assert sys.modules["warm_first"].VALUE == "warm_first" and "warm_later" not in sys.modules
    assert "warm_broken" not in sys.modules  # left for the step's own import to raise
    assert import_requested() == ["warm_later"]  # the second build's group
    assert import_requested() == []  # once: a third build imports nothing



def test_without_leaves_out_only_the_named_modules_and_keeps_the_groups():
    groups = warm_imports.without([warm_imports.WEIGHTING])
    assert len(groups) == len(LATER_STEP_MODULES)
    assert [name for group in groups for name in group] == [
        name for group in LATER_STEP_MODULES for name in group if name != warm_imports.WEIGHTING]
    assert warm_imports.WEIGHTING in LATER_STEP_MODULES[0]
