"""Building only what changed: the part of the graph that only unchanged sources feed is copied, not rebuilt.

When every survey wave of a refresh was copied from the published warehouse (same files, same code and
settings: orchestration.build_inputs) and only UDI snapshots changed, linkage, the survey staging tables,
the reference seeds and the models that read nothing else are as published; likewise the UDI side when
only a wave changed. `plan` names the assets downstream of the changed sources, which the downstream run
materialises, and the relations of the others, which `copy_published` copies from the published file with
their definitions, constraints and comments. Assets downstream of both (weights, which rake to UDI
figures, and every mart that reads them) are rebuilt, and so are the checks and the publication, with one
exception: `split_at` runs the weights (with what they read, and the dbt stage that builds it) first, and
when `schema_as_published` finds their tables equal to the published ones, row for row, `after_pivot` copies
what only they and unchanged sources feed as well. A new UDI snapshot rarely changes the weights (each wave
rakes to its nearest snapshot), so the survey marts need not be built again.

A Python asset that is skipped must say which schema it writes whole (`WRITES_SCHEMA` in its metadata);
if one does not, or the published file lacks a relation, the whole graph is rebuilt as before.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.metadata import WRITES_SCHEMA

PUBLISHED = "published_warehouse"


def unchanged_kinds(partitions: Mapping[str, list[str]], published_partitions: Iterable[str],
                    reused: Iterable[str]) -> set[str]:
    """The partition kinds (`survey`, `udi`) whose every partition was copied from the published warehouse
    and whose published build had exactly these partitions (a deleted folder is a change)."""
    reused, published_partitions = set(reused), set(published_partitions)
    kinds = set()
    for kind, keys in partitions.items():
        names = {f"{kind}/{key}" for key in keys}
        published = {name for name in published_partitions if name.split("/", 1)[0] == kind}
        if names <= reused and names == published:
            kinds.add(kind)
    return kinds


@dataclass(frozen=True)
class Plan:
    """What the downstream run materialises, and what is copied from the published file instead."""

    selection: list[dg.AssetKey]
    tables: list[str] = field(default_factory=list)  # `schema.relation` of skipped dbt nodes
    schemas: list[str] = field(default_factory=list)  # schemas that skipped Python assets write whole

    def describe(self) -> str:
        parts = [f"{len(self.tables)} dbt relation(s)"] + [f"schema {schema}" for schema in self.schemas]
        return ", ".join(parts)


def plan(defs: dg.Definitions, job_keys: Iterable[dg.AssetKey], changed_sources: Iterable[dg.AssetKey],
         dbt_keys: Iterable[dg.AssetKey]) -> Plan | None:
    """The assets of the job (`job_keys`) downstream of `changed_sources`, and how to copy the rest; None when
    everything must be built (nothing to skip, or a skipped asset whose output is not known)."""
    changed_sources, job_keys, dbt_keys = list(changed_sources), set(job_keys), set(dbt_keys)
    if not changed_sources:
        return None
    graph = defs.resolve_asset_graph()
    selected = dg.AssetSelection.assets(*changed_sources).downstream().resolve(graph) & job_keys
    skipped = job_keys - selected
    if not skipped:
        return None
    tables, schemas = [], set()
    for key in sorted(skipped, key=lambda k: k.to_user_string()):
        schema = graph.get(key).metadata.get(WRITES_SCHEMA)
        if schema:
            schemas.add(str(schema))
        elif key in dbt_keys and len(key.path) == 2:
            tables.append(".".join(key.path))
        else:
            return None
    return Plan(sorted(selected, key=lambda k: k.to_user_string()), tables, sorted(schemas))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _published_relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str, str | None]]:
    """(kind, schema, name, sql, comment) of every table, then every view, of the attached published file."""
    tables = con.execute(
        "SELECT 'TABLE', schema_name, table_name, sql, comment FROM duckdb_tables() WHERE database_name = ? "
        "ORDER BY schema_name, table_name", [PUBLISHED]).fetchall()
    views = con.execute(
        "SELECT 'VIEW', schema_name, view_name, sql, comment FROM duckdb_views() WHERE database_name = ? "
        "AND NOT internal ORDER BY schema_name, view_name", [PUBLISHED]).fetchall()
    return tables + views


class PublishedLacks(Exception):
    """The published file lacks relations (or schemas) a plan copies: nothing was copied; build them instead."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"the published warehouse lacks {', '.join(missing)}")
        self.missing = missing


def _missing(held: list[tuple[str, str, str, str, str | None]], reuse: Plan) -> list[str]:
    names = {f"{schema}.{name}" for _, schema, name, _, _ in held}
    schemas = {schema for _, schema, _, _, _ in held}
    return [t for t in reuse.tables if t not in names] + [s for s in reuse.schemas if s not in schemas]


def copy_published(build: Path, published: Path, reuse: Plan) -> int:
    """Copy the plan's relations from the published file into the build, in one transaction: each table
    with its definition (constraints included), rows and comments, then each view; returns how many.
    Raises PublishedLacks, having copied nothing, if the published file lacks any of them."""
    con = duckdb.connect(str(build))
    try:
        con.execute(f"ATTACH {_text(str(published))} AS {PUBLISHED} (READ_ONLY)")
        held = _published_relations(con)
        missing = _missing(held, reuse)
        if missing:
            raise PublishedLacks(missing)
        wanted = [relation for relation in held
                  if f"{relation[1]}.{relation[2]}" in reuse.tables or relation[1] in reuse.schemas]
        con.execute("BEGIN TRANSACTION")
        try:
            for kind, schema, name, sql, comment in wanted:  # tables first: views read them
                _copy_relation(con, kind, schema, name, sql, comment)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return len(wanted)
    finally:
        con.close()


def _copy_relation(con: duckdb.DuckDBPyConnection, kind: str, schema: str, name: str, sql: str,
                   comment: str | None) -> None:
    target = f"{_ident(schema)}.{_ident(name)}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
    con.execute(f"DROP {kind} IF EXISTS {target}")
    con.execute(sql)  # `CREATE TABLE schema.name(...)`, unqualified: it lands in the build
    if kind == "TABLE":
        con.execute(f"INSERT INTO {target} SELECT * FROM {PUBLISHED}.{target}")
    if comment:
        con.execute(f"COMMENT ON {kind} {target} IS {_text(comment)}")
    for column, column_comment in con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
            "AND table_name = ? AND comment IS NOT NULL", [PUBLISHED, schema, name]).fetchall():
        con.execute(f"COMMENT ON COLUMN {target}.{_ident(column)} IS {_text(column_comment)}")


@dataclass(frozen=True)
class Stages:
    """A plan's selection cut in two runs at `pivot`, an asset that may come out as published."""

    first: list[dg.AssetKey]  # the pivot, what it reads that is selected, and the dbt stage they share
    pivot: dg.AssetKey
    schema: str  # what the pivot writes whole, compared with the published file after the first run


def split_at(defs: dg.Definitions, selection: Iterable[dg.AssetKey], pivot: dg.AssetKey,
             stage_keys: Iterable[dg.AssetKey]) -> Stages | None:
    """The first run: `pivot`, what it reads that is in `selection`, and the rest of that dbt stage
    (`stage_keys`, so one stage stays one `dbt build`). None when the pivot is not selected or does not say
    which schema it writes."""
    selection = set(selection)
    if pivot not in selection:
        return None
    graph = defs.resolve_asset_graph()
    schema = graph.get(pivot).metadata.get(WRITES_SCHEMA)
    if not schema:
        return None
    upstream = dg.AssetSelection.assets(pivot).upstream().resolve(graph)
    first = (upstream | set(stage_keys)) & selection
    # a multi-asset that cannot be subset (linkage writes person_links and linkage_truth) runs whole
    first = dg.AssetSelection.assets(*first).required_multi_asset_neighbors().resolve(graph) & selection
    return Stages(sorted(first, key=lambda k: k.to_user_string()), pivot, str(schema))


def after_pivot(defs: dg.Definitions, selection: Iterable[dg.AssetKey], stages: Stages, pivot_as_published: bool,
                changed_sources: Iterable[dg.AssetKey], dbt_keys: Iterable[dg.AssetKey]) -> Plan:
    """The second run's selection; when the pivot came out as published, only what the changed sources and
    the first run's other assets feed, and the dbt relations left out are to be copied (`Plan.tables`). If
    one of those is not a dbt relation, the second run builds everything left, as when the pivot changed."""
    selection, first, dbt_keys = set(selection), set(stages.first), set(dbt_keys)
    rest = selection - first
    if not pivot_as_published:
        return Plan(sorted(rest, key=lambda k: k.to_user_string()))
    changed = (first - {stages.pivot}) | set(changed_sources)
    fed = _downstream_avoiding(defs.resolve_asset_graph(), changed, stages.pivot) & rest
    copied = rest - fed
    if any(key not in dbt_keys or len(key.path) != 2 for key in copied):
        return Plan(sorted(rest, key=lambda k: k.to_user_string()))
    return Plan(sorted(fed, key=lambda k: k.to_user_string()), sorted(".".join(key.path) for key in copied))


def _downstream_avoiding(graph, keys: set[dg.AssetKey], avoided: dg.AssetKey) -> set[dg.AssetKey]:
    """Every asset downstream of `keys` along paths that do not pass through `avoided`."""
    seen, todo = set(), [key for key in keys if key != avoided]
    while todo:
        key = todo.pop()
        for child in graph.get(key).child_keys:
            if child != avoided and child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def schema_as_published(build: Path, published: Path, schema: str) -> bool:
    """Whether every table of `schema` in the build equals the published one: the same tables, columns and
    types, and the same rows (as multisets). False when the published file lacks the schema."""
    con = duckdb.connect(str(build))
    try:
        con.execute(f"ATTACH {_text(str(published))} AS {PUBLISHED} (READ_ONLY)")
        shape = ("SELECT table_name, column_name, data_type, column_index FROM duckdb_columns() "
                 "WHERE database_name = ? AND schema_name = ? ORDER BY ALL")
        build_name = con.execute("SELECT current_database()").fetchone()[0]
        built = con.execute(shape, [build_name, schema]).fetchall()
        if not built or built != con.execute(shape, [PUBLISHED, schema]).fetchall():
            return False
        for table in sorted({row[0] for row in built}):
            ours, theirs = f"{_ident(build_name)}.{_ident(schema)}.{_ident(table)}", \
                f"{PUBLISHED}.{_ident(schema)}.{_ident(table)}"
            differing = con.execute(
                f"SELECT count(*) FROM ((FROM {ours} EXCEPT ALL FROM {theirs}) "
                f"UNION ALL (FROM {theirs} EXCEPT ALL FROM {ours}))").fetchone()[0]
            if differing:
                return False
        return True
    finally:
        con.close()
