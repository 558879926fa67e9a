"""What a refresh skips when only one kind of source changed, and how it copies the rest."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.unchanged import Plan, PublishedLacks, copy_published, plan, unchanged_kinds

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
