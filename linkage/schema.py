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
EVIDENCE_SQL_COLUMNS = (
    "email_dice DOUBLE, email_agreement VARCHAR, gender_agreement VARCHAR, birth_year_agreement VARCHAR, "
    "oblast_iso_agreement VARCHAR, arrival_index_agreement VARCHAR, kommune_code_2024_agreement VARCHAR, "
    "language_agreement VARCHAR, partner_location_agreement VARCHAR, children_in_norway_agreement VARCHAR"
)
# Every pair the model scored: a new wave's response of record against a person's best-matching record.
CANDIDATE_PAIRS_COLUMNS = (
    "wave_id VARCHAR NOT NULL, response_id VARCHAR NOT NULL, person_id VARCHAR NOT NULL, "
    "earlier_wave_id VARCHAR NOT NULL, earlier_response_id VARCHAR NOT NULL, log2_bayes_factor DOUBLE NOT NULL, "
    "match_probability DOUBLE, probability_any_person DOUBLE NOT NULL, is_linked BOOLEAN NOT NULL, "
    + EVIDENCE_SQL_COLUMNS + ", linkage_run_id VARCHAR NOT NULL"
)
# Every row of linkage_decisions.csv a run looked at, and what became of it.
DECISIONS_APPLIED_COLUMNS = (
    "linkage_run_id VARCHAR NOT NULL, file_row INTEGER NOT NULL, earlier_wave_id VARCHAR NOT NULL, "
    "earlier_response_id VARCHAR NOT NULL, later_wave_id VARCHAR NOT NULL, later_response_id VARCHAR NOT NULL, "
    "decision VARCHAR NOT NULL, reviewer VARCHAR NOT NULL, decided_on DATE NOT NULL, status VARCHAR NOT NULL, "
    "reason VARCHAR NOT NULL, model_probability DOUBLE"
)
REVIEW_QUEUE_COLUMNS = (
    "queue_reason VARCHAR NOT NULL, earlier_wave_id VARCHAR NOT NULL, earlier_response_id VARCHAR NOT NULL, "
    "later_wave_id VARCHAR NOT NULL, later_response_id VARCHAR NOT NULL, currently_linked BOOLEAN NOT NULL, "
    "link_method VARCHAR, match_probability DOUBLE, log2_bayes_factor DOUBLE, " + EVIDENCE_SQL_COLUMNS
    + ", linkage_run_id VARCHAR NOT NULL"
)
QUALITY_ESTIMATES_COLUMNS = (
    "wave_from VARCHAR NOT NULL, wave_to VARCHAR NOT NULL, method VARCHAR NOT NULL, predicted_pairs BIGINT NOT NULL, "
    "reviewed_pairs BIGINT NOT NULL, expected_false_pairs DOUBLE NOT NULL, expected_false_pairs_model_only DOUBLE NOT NULL, "
    "expected_missed_pairs DOUBLE NOT NULL, estimated_precision DOUBLE, estimated_precision_low DOUBLE, "
    "estimated_precision_high DOUBLE, estimated_precision_model_only DOUBLE, estimated_recall DOUBLE, "
    "estimated_recall_low DOUBLE, estimated_recall_high DOUBLE, estimated_f1 DOUBLE, estimated_f1_low DOUBLE, "
    "estimated_f1_high DOUBLE, linkage_run_id VARCHAR NOT NULL"
)
# person_id is NULL for rows the generator wrote without a person (the survey team's test submissions).
TRUTH_COLUMNS = "wave_id VARCHAR NOT NULL, response_id VARCHAR NOT NULL, person_id VARCHAR"

LINK_METHODS = ("single", "token", "email_exact", "probabilistic")


TABLES = {
    "response_persons": RESPONSE_PERSONS_COLUMNS, "runs": RUNS_COLUMNS, "truth_responses": TRUTH_COLUMNS,
    "candidate_pairs": CANDIDATE_PAIRS_COLUMNS, "decisions_applied": DECISIONS_APPLIED_COLUMNS,
    "review_queue": REVIEW_QUEUE_COLUMNS, "quality_estimates": QUALITY_ESTIMATES_COLUMNS,
}
# Carried from the published warehouse into a new build: what earlier runs established.
CARRIED_TABLES = ("response_persons", "runs", "candidate_pairs", "decisions_applied")


def ensure_linkage_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `linkage` schema and its tables if they are missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS linkage")
    for name, columns in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS linkage.{name} ({columns})")


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
        for name in CARRIED_TABLES:
            if name in tables:  # a warehouse from before the review loop has no candidate pairs
                con.execute(f"INSERT INTO linkage.{name} BY NAME SELECT * FROM previous_warehouse.linkage.{name}")
        return con.execute("SELECT count(*) FROM linkage.response_persons").fetchone()[0]
    finally:
        con.execute("DETACH previous_warehouse")
