"""Tables of the `linkage` schema in the build DuckDB file (see docs/architecture.md, "Linkage")."""
from __future__ import annotations

import duckdb

RESPONSE_PERSONS_COLUMNS = (
    "wave_id VARCHAR NOT NULL, wave_number INTEGER NOT NULL, response_id VARCHAR NOT NULL, "
    "person_id VARCHAR NOT NULL, is_response_of_record BOOLEAN NOT NULL, "
    "duplicate_of_response_id VARCHAR, link_method VARCHAR NOT NULL, "
    "linked_to_response_id VARCHAR, match_probability DOUBLE, linkage_run_id VARCHAR NOT NULL"
)
RUNS_COLUMNS = (
    "linkage_run_id VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL, "
    "waves VARCHAR[] NOT NULL, parameters JSON NOT NULL, counts JSON NOT NULL"
)
# person_id is NULL for rows the generator wrote without a person (the survey team's test submissions).
TRUTH_COLUMNS = "wave_id VARCHAR NOT NULL, response_id VARCHAR NOT NULL, person_id VARCHAR"

LINK_METHODS = ("single", "token", "email_exact", "probabilistic")


def ensure_linkage_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `linkage` schema and its three tables if they are missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS linkage")
    con.execute(f"CREATE TABLE IF NOT EXISTS linkage.response_persons ({RESPONSE_PERSONS_COLUMNS})")
    con.execute(f"CREATE TABLE IF NOT EXISTS linkage.runs ({RUNS_COLUMNS})")
    con.execute(f"CREATE TABLE IF NOT EXISTS linkage.truth_responses ({TRUTH_COLUMNS})")


def carry_over_assignments(con: duckdb.DuckDBPyConnection, previous_db) -> int:
    """Copy the person assignments and run history of a previous warehouse file into this (new) build.

    A full refresh starts a new build file; carrying the published panel's assignments over lets
    `link_waves` keep every wave whose responses are unchanged and link only what is new, against the
    persons that already exist. Returns the number of assignments carried over (0 when the previous
    file is missing or predates the linkage schema, in which case every wave is linked afresh).
    """
    from pathlib import Path

    previous_db = Path(previous_db)
    ensure_linkage_tables(con)
    if not previous_db.exists():
        return 0
    quoted = str(previous_db).replace("'", "''")  # ATTACH takes no parameters; a data root may hold a quote
    con.execute(f"ATTACH '{quoted}' AS previous_warehouse (READ_ONLY)")
    try:
        tables = {name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'previous_warehouse' "
            "AND schema_name = 'linkage'").fetchall()}
        if not {"response_persons", "runs"} <= tables:
            return 0
        con.execute("INSERT INTO linkage.response_persons BY NAME "
                    "SELECT * FROM previous_warehouse.linkage.response_persons")
        con.execute("INSERT INTO linkage.runs BY NAME SELECT * FROM previous_warehouse.linkage.runs")
        return con.execute("SELECT count(*) FROM linkage.response_persons").fetchone()[0]
    finally:
        con.execute("DETACH previous_warehouse")
