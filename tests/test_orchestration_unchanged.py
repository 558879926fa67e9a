"""What a refresh skips when only one kind of source changed, and how it copies the rest."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.metadata import WRITES_SCHEMA
from orchestration.unchanged import (Plan, PublishedLacks, after_pivot, copy_published, plan, schema_as_published,
                                  split_at, unchanged_kinds)

PUBLISHED = {"survey/w1_2022": "a", "survey/w2_2023": "b", "udi/2025-08-05": "c", "udi/2025-09-05": "d"}


def test_a_kind_is_unchanged_only_when_every_partition_was_copied_and_none_was_removed():
    partitions = {"survey": ["w1_2022", "w2_2023"], "udi": ["2025-08-05", "2025-09-05", "2025-10-05"]}
    reused = ["survey/w1_2022", "survey/w2_2023", "udi/2025-08-05", "udi/2025-09-05"]
    assert unchanged_kinds(partitions, PUBLISHED, reused) == {"survey"}
    assert unchanged_kinds(partitions, PUBLISHED, reused[1:]) == set(), "a wave ingested again is a change"
    removed = {"survey": ["w1_2022"], "udi": ["2025-08-05", "2025-09-05"]}
    assert unchanged_kinds(removed, PUBLISHED, reused) == {"udi"}, "a deleted wave folder is a change"


@pytest.fixture(scope="module")
def panel():
    from orchestration.defs.assets.dbt import dbt_analysis, dbt_harmonise
    from orchestration.defs.jobs import DOWNSTREAM_SELECTION
    from orchestration.definitions import defs

    return defs, DOWNSTREAM_SELECTION.resolve(defs.resolve_asset_graph()), set(dbt_harmonise.keys) | set(dbt_analysis.keys)


def _names(keys) -> set[str]:
    return {key.to_user_string() for key in keys}


def test_a_new_snapshot_rebuilds_the_udi_side_and_everything_weighted_but_copies_linkage(panel):
    defs, job_keys, dbt_keys = panel
    udi_only = plan(defs, job_keys, [dg.AssetKey("udi_snapshot")], dbt_keys)
    built = _names(udi_only.selection)
    assert {"staging/stg_udi__valid_permits", "survey_weights", "marts/udi_stock", "marts/attrition",
            "marts/udi_monthly", "published_warehouse"} <= built
    assert not {"person_links", "linkage_truth", "staging/stg_survey__responses", "marts/persons",
                "reference/survey_waves"} & built
    assert udi_only.schemas == ["linkage"]
    assert {"staging.stg_survey__responses", "marts.persons", "reference.survey_waves"} <= set(udi_only.tables)
    assert set(udi_only.tables).isdisjoint(key.replace("/", ".") for key in built)


def test_a_new_wave_copies_the_udi_side(panel):
    defs, job_keys, dbt_keys = panel
    survey_only = plan(defs, job_keys, [dg.AssetKey("survey_wave")], dbt_keys)
    assert {"person_links", "survey_weights", "marts/persons"} <= _names(survey_only.selection)
    assert {"staging.stg_udi__applications", "marts.udi_revisions", "marts.udi_stock"} <= set(survey_only.tables)
    assert survey_only.schemas == []


def test_with_both_kinds_changed_only_the_seeds_are_copied(panel):
    """Same code and settings (else nothing is reused at all): the seeds are as published."""
    defs, job_keys, dbt_keys = panel
    both = plan(defs, job_keys, [dg.AssetKey("survey_wave"), dg.AssetKey("udi_snapshot")], dbt_keys)
    assert both.tables and all(table.startswith("reference.") for table in both.tables) and both.schemas == []
    assert {"person_links", "survey_weights", "staging/stg_survey__responses"} <= _names(both.selection)


WEIGHTS = dg.AssetKey("survey_weights")


def test_a_new_snapshot_builds_the_weights_first_and_copies_the_survey_marts_if_they_come_out_as_published(panel):
    from orchestration.defs.assets.dbt import dbt_harmonise

    defs, job_keys, dbt_keys = panel
    udi = [dg.AssetKey("udi_snapshot")]
    udi_only = plan(defs, job_keys, udi, dbt_keys)
    stages = split_at(defs, udi_only.selection, WEIGHTS, dbt_harmonise.keys)
    assert stages.schema == "weights"
    assert _names(stages.first) == {"survey_weights"} | {
        name for name in _names(udi_only.selection) if name.startswith("staging/")}
    assert "staging/stg_udi__applications" in _names(stages.first), "the whole harmonise stage: one dbt build"

    same = after_pivot(defs, udi_only.selection, stages, True, udi, dbt_keys)
    assert {"marts/udi_stock", "marts/udi_monthly", "release/udi_stock", "published_warehouse"} <= _names(same.selection)
    assert {"marts.attrition", "marts.exits", "release.attrition", "intermediate.int_analysis_responses"} <= \
        set(same.tables)
    assert set(same.tables).isdisjoint(key.replace("/", ".") for key in _names(same.selection))
    assert set(stages.first) | set(same.selection) | {dg.AssetKey(t.split(".")) for t in same.tables} == \
        set(udi_only.selection), "every selected asset is built in one of the runs or copied"

    changed = after_pivot(defs, udi_only.selection, stages, False, udi, dbt_keys)
    assert changed.tables == [] and set(changed.selection) == set(udi_only.selection) - set(stages.first)

    survey = [dg.AssetKey("survey_wave")]
    survey_only = plan(defs, job_keys, survey, dbt_keys)
    wave_first = split_at(defs, survey_only.selection, WEIGHTS, dbt_harmonise.keys)
    assert {"person_links", "linkage_truth", "survey_weights", "staging/stg_survey__responses"} <= \
        _names(wave_first.first), "linkage writes two assets and cannot run one without the other"
    defs.resolve_job_def("downstream_job").get_subset(asset_selection=set(wave_first.first))


def test_only_what_reads_nothing_changed_but_the_pivot_is_copied():
    source, other = dg.AssetSpec("source"), dg.AssetSpec("other_source")

    @dg.asset(deps=[source])
    def stage() -> None:
        """Built from the changed source."""

    @dg.asset(deps=[stage, other], metadata={WRITES_SCHEMA: "weights"})
    def pivot() -> None:
        """May come out as published."""

    @dg.asset(deps=[pivot], key_prefix="marts")
    def weighted() -> None:
        """Reads only the pivot."""

    @dg.asset(deps=[pivot, stage], key_prefix="marts")
    def mixed() -> None:
        """Reads the pivot and what changed."""

    @dg.asset(deps=[weighted, source], key_prefix="marts")
    def direct() -> None:
        """Reads the changed source itself, past the first run."""

    @dg.asset(deps=[weighted], key_prefix="marts")
    def below() -> None:
        """Reads only what the pivot feeds."""

    small = dg.Definitions(assets=[source, other, stage, pivot, weighted, mixed, direct, below])
    selection = [dg.AssetKey(name) for name in ("stage", "pivot")] + [
        dg.AssetKey(["marts", name]) for name in ("weighted", "mixed", "direct", "below")]
    stages = split_at(small, selection, dg.AssetKey("pivot"), [dg.AssetKey("stage")])
    assert _names(stages.first) == {"stage", "pivot"}
    marts = set(selection[2:])
    same = after_pivot(small, selection, stages, True, [dg.AssetKey("source")], marts)
    assert _names(same.selection) == {"marts/mixed", "marts/direct"}
    assert same.tables == ["marts.below", "marts.weighted"]
    not_dbt = after_pivot(small, selection, stages, True, [dg.AssetKey("source")], marts - {dg.AssetKey(["marts", "below"])})
    assert not_dbt.tables == [] and set(not_dbt.selection) == marts, "a Python asset cannot be copied: build all"
    assert split_at(small, selection[2:], dg.AssetKey("pivot"), []) is None, "no pivot selected, no split"
    assert split_at(small, selection, dg.AssetKey("stage"), []) is None, "a pivot must say which schema it writes"


def _weights(path: Path, rows: list[tuple[str, float]], extra: bool = False) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists weights")
    con.execute("create or replace table weights.cross_sectional (response_id varchar, weight double)")
    con.executemany("insert into weights.cross_sectional values (?, ?)", rows)
    if extra:
        con.execute("create table weights.longitudinal (response_id varchar)")
    con.close()


def test_a_schema_is_as_published_only_with_the_same_tables_columns_and_rows(tmp_path: Path):
    published, build = tmp_path / "published.duckdb", tmp_path / "build.duckdb"
    rows = [("r1", 0.5), ("r2", 1.5), ("r2", 1.5)]
    _weights(published, rows)
    duckdb.connect(str(build)).close()
    assert not schema_as_published(build, published, "weights"), "the build lacks the schema"
    _weights(build, list(reversed(rows)))
    assert schema_as_published(build, published, "weights"), "row order does not matter"
    _weights(build, rows[:2])
    assert not schema_as_published(build, published, "weights"), "rows are compared as multisets"
    _weights(build, [("r1", 0.5), ("r2", 1.5), ("r2", 1.5000000000000002)])
    assert not schema_as_published(build, published, "weights"), "one last bit of one weight"
    _weights(build, rows, extra=True)
    assert not schema_as_published(build, published, "weights"), "a table the published file lacks"
    assert not schema_as_published(build, published, "linkage"), "a schema neither file has"
    con = duckdb.connect(str(build))
    con.execute("drop table weights.longitudinal")
    con.execute("alter table weights.cross_sectional alter weight type float")
    con.close()
    assert not schema_as_published(build, published, "weights"), "a column type"


def test_nothing_is_skipped_without_a_changed_source_or_when_a_skipped_asset_does_not_say_what_it_writes(panel):
    defs, job_keys, dbt_keys = panel
    assert plan(defs, job_keys, [], dbt_keys) is None

    source = dg.AssetSpec("source")
    other = dg.AssetSpec("other_source")

    @dg.asset(deps=[source])
    def writes_somewhere() -> None:
        """A Python asset without WRITES_SCHEMA metadata."""

    @dg.asset(deps=[other])
    def fed_by_the_other() -> None:
        """Built from the source that changed."""

    small = dg.Definitions(assets=[source, other, writes_somewhere, fed_by_the_other])
    keys = {dg.AssetKey("writes_somewhere"), dg.AssetKey("fed_by_the_other")}
    assert plan(small, keys, [dg.AssetKey("other_source")], set()) is None


def _published(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema linkage; create schema raw; create schema staging")
    con.execute("create table raw.cells (id integer)")
    con.execute("insert into raw.cells values (1), (2)")
    con.execute("create table marts.persons (person_id varchar not null, waves integer)")
    con.execute("insert into marts.persons values ('p1', 2), ('p2', 1)")
    con.execute("comment on table marts.persons is 'One row per person.'")
    con.execute("comment on column marts.persons.person_id is 'Stable person id, it''s kept.'")
    con.execute("create table linkage.runs (run_id varchar)")
    con.execute("insert into linkage.runs values ('r1')")
    con.execute("create table linkage.truth_responses (response_id varchar)")
    con.execute("create view staging.stg_cells as select id * 10 as tenfold from raw.cells")
    con.execute("comment on view staging.stg_cells is 'Cells, harmonised.'")
    con.close()


def test_copied_relations_keep_their_definition_constraints_rows_and_comments(tmp_path: Path):
    published, build = tmp_path / "published.duckdb", tmp_path / "build.duckdb"
    _published(published)
    con = duckdb.connect(str(build))
    con.execute("create schema raw; create table raw.cells (id integer); insert into raw.cells values (3)")
    con.execute("create schema linkage; create table linkage.runs (run_id varchar, carried boolean)")
    con.close()

    reuse = Plan(selection=[], tables=["marts.persons", "staging.stg_cells"], schemas=["linkage"])
    assert copy_published(build, published, reuse) == 4

    con = duckdb.connect(str(build))
    assert con.execute("select * from marts.persons order by 1").fetchall() == [("p1", 2), ("p2", 1)]
    with pytest.raises(duckdb.ConstraintException):
        con.execute("insert into marts.persons values (null, 1)")
    assert con.execute("select comment from duckdb_tables() where table_name = 'persons'").fetchone()[0] == \
        "One row per person."
    assert con.execute("select comment from duckdb_columns() where table_name = 'persons' "
                       "and column_name = 'person_id'").fetchone()[0] == "Stable person id, it's kept."
    assert con.execute("select * from staging.stg_cells").fetchall() == [(30,)], "the view reads the build's rows"
    assert con.execute("select comment from duckdb_views() where view_name = 'stg_cells'").fetchone()[0] == \
        "Cells, harmonised."
    assert con.execute("select * from linkage.runs").fetchall() == [("r1",)], "replaced, not merged"
    assert con.execute("select count(*) from linkage.truth_responses").fetchone()[0] == 0
    assert con.execute("select * from raw.cells").fetchall() == [(3,)], "nothing outside the plan is touched"
    con.close()


def test_a_relation_the_published_file_lacks_is_named(tmp_path: Path):
    published = tmp_path / "published.duckdb"
    _published(published)
    build = tmp_path / "build.duckdb"
    duckdb.connect(str(build)).close()
    reuse = Plan(selection=[], tables=["marts.persons", "marts.added_since"], schemas=["weights"])
    with pytest.raises(PublishedLacks) as lacking:
        copy_published(build, published, reuse)
    assert lacking.value.missing == ["marts.added_since", "weights"]
    con = duckdb.connect(str(build))
    assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] == 0, "nothing copied"
    con.close()


def test_the_refresh_expects_one_dbt_build_per_stage_with_something_to_build(panel):
    from orchestration.refresh import dbt_builds_ahead

    defs, job_keys, dbt_keys = panel
    udi_only = plan(defs, job_keys, [dg.AssetKey("udi_snapshot")], dbt_keys)
    assert dbt_builds_ahead(None) == 2, "nothing skipped: the whole downstream job, both stages"
    assert dbt_builds_ahead((udi_only.selection, [dg.AssetKey("udi_snapshot")])) == 2
    assert dbt_builds_ahead(([dg.AssetKey(["marts", "udi_stock"]), dg.AssetKey("published_warehouse")], [])) == 1
    assert dbt_builds_ahead(([dg.AssetKey("survey_weights")], [])) == 0
