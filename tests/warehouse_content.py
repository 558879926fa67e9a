"""Comparing the content of two warehouse files, table by table (used by the idempotency and incremental tests)."""
from __future__ import annotations

from pathlib import Path

import duckdb

# Meant to differ between two refreshes of the same raw data: when a row was loaded or quarantined, and the
# release history (`audit.releases`: one row per publication, with its time and release id).
VOLATILE_COLUMNS = ("loaded_at", "quarantined_at")
VOLATILE_TABLES = ("audit.releases",)


def content_fingerprints(db_path: Path) -> dict[str, str]:
    """An order-independent content hash (row count, sum of the hashes of the rows, bit for bit, floats
    included) of every `marts`, `release` and `audit` table, without the volatile columns and tables."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in ('marts', 'release', 'audit')"
        ).fetchall()
        fingerprints = {}
        for schema, table in tables:
            if f"{schema}.{table}" in VOLATILE_TABLES:
                continue
            columns = [c for (c,) in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?", [schema, table]
            ).fetchall()]
            excluded = [c for c in columns if c in VOLATILE_COLUMNS]
            rows = f'select * exclude ({", ".join(excluded)}) from "{schema}"."{table}"' if excluded else \
                f'select * from "{schema}"."{table}"'
            fingerprints[f"{schema}.{table}"] = str(con.execute(f"select count(*), sum(hash(t)) from ({rows}) t").fetchone())
        return fingerprints
    finally:
        con.close()


def catalogue(db_path: Path) -> dict[str, tuple]:
    """Every relation of every schema with its kind and comment, and every column with its type,
    nullability and comment: what a copied relation must keep."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        relations = con.execute(
            "select schema_name || '.' || table_name, 'table', comment from duckdb_tables() union all "
            "select schema_name || '.' || view_name, 'view', comment from duckdb_views() where not internal").fetchall()
        columns = con.execute(
            "select schema_name || '.' || table_name || '.' || column_name, data_type, is_nullable, comment "
            "from duckdb_columns() where schema_name not in ('information_schema', 'pg_catalog')").fetchall()
        return {name: tuple(rest) for name, *rest in relations + columns}
    finally:
        con.close()
