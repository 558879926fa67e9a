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
