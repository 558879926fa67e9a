"""Clerical review: the queue every run writes (`linkage.review_queue`) and its CSV export.

`python -m linkage.review` (`make review`) writes the published warehouse's queue to
`$PANEL_DATA_DIR/review/review_queue.csv`. A reviewer fills in `decision` (`match`/`non_match`),
`reviewer` and `decided_on` (YYYY-MM-DD) and saves the decided rows as
`$PANEL_DATA_DIR/linkage_decisions.csv` (linkage.decisions), which the next refresh honours.
The queue holds evidence only: agreement levels, the Dice similarity of the e-mail encodings and the
model's figures; never an address, hash or Bloom filter.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from linkage.decisions import DECISION_COLUMNS
from linkage.model import EVIDENCE_COLUMNS

# Pairs closest to the decision threshold, and a seeded random sample of accepted links to audit.
NEAR_THRESHOLD_PAIRS = 40
AUDIT_SAMPLE_LINKS = 20
AUDIT_SEED = "20220601"

_EVIDENCE = ", ".join(f"c.{c}" for c in EVIDENCE_COLUMNS)


def write_review_queue(con: duckdb.DuckDBPyConnection, run_id: str, threshold: float) -> int:
    """Replace linkage.review_queue; pairs already decided (linkage_decisions.csv) are left out."""
    con.execute("DELETE FROM linkage.review_queue")
    con.execute(f"""
        INSERT INTO linkage.review_queue BY NAME
        WITH decided AS (
            SELECT earlier_wave_id, earlier_response_id, later_wave_id, later_response_id
            FROM linkage.decisions_applied WHERE linkage_run_id = $run
        ), persons AS (
            SELECT wave_id, wave_number, response_id, person_id, link_method FROM linkage.response_persons
        ), near AS (
            SELECT 'near_threshold' AS queue_reason, c.earlier_wave_id, c.earlier_response_id,
                   c.wave_id AS later_wave_id, c.response_id AS later_response_id,
                   later.person_id = earlier.person_id AS currently_linked,
                   CASE WHEN later.person_id = earlier.person_id THEN later.link_method END AS link_method,
                   c.match_probability, c.log2_bayes_factor, {_EVIDENCE}
            FROM linkage.candidate_pairs c
            JOIN persons later ON later.wave_id = c.wave_id AND later.response_id = c.response_id
            JOIN persons earlier ON earlier.wave_id = c.earlier_wave_id AND earlier.response_id = c.earlier_response_id
            WHERE c.match_probability IS NOT NULL
              AND (c.earlier_wave_id, c.earlier_response_id, c.wave_id, c.response_id) NOT IN (SELECT * FROM decided)
            ORDER BY abs(c.match_probability - $threshold), c.wave_id, c.response_id, c.person_id
            LIMIT {NEAR_THRESHOLD_PAIRS}
        ), linked AS (
            SELECT later.wave_id AS later_wave_id, later.response_id AS later_response_id, later.person_id,
                   later.link_method, later.match_probability,
                   earlier.wave_id AS earlier_wave_id, earlier.response_id AS earlier_response_id
            FROM linkage.response_persons later
            JOIN linkage.response_persons earlier
              ON earlier.person_id = later.person_id AND earlier.response_id = later.linked_to_response_id
             AND earlier.wave_number < later.wave_number
            WHERE later.is_response_of_record AND later.link_method <> 'single'
        ), audit AS (
            SELECT 'audit_sample' AS queue_reason, l.earlier_wave_id, l.earlier_response_id,
                   l.later_wave_id, l.later_response_id, true AS currently_linked, l.link_method,
                   l.match_probability, c.log2_bayes_factor, {_EVIDENCE}
            FROM linked l
            LEFT JOIN linkage.candidate_pairs c
              ON c.wave_id = l.later_wave_id AND c.response_id = l.later_response_id AND c.person_id = l.person_id
            WHERE (l.earlier_wave_id, l.earlier_response_id, l.later_wave_id, l.later_response_id)
                  NOT IN (SELECT * FROM decided)
              AND (l.earlier_wave_id, l.earlier_response_id, l.later_wave_id, l.later_response_id)
                  NOT IN (SELECT earlier_wave_id, earlier_response_id, later_wave_id, later_response_id FROM near)
            ORDER BY md5($seed || ':' || l.later_wave_id || ':' || l.later_response_id)
            LIMIT {AUDIT_SAMPLE_LINKS}
        )
        SELECT *, $run AS linkage_run_id FROM near
        UNION ALL BY NAME
        SELECT *, $run AS linkage_run_id FROM audit
    """, {"run": run_id, "threshold": threshold, "seed": AUDIT_SEED})
    return con.execute("SELECT count(*) FROM linkage.review_queue").fetchone()[0]


def export_review_queue(warehouse: Path, target: Path) -> int:
    """Write the queue of `warehouse` as CSV with empty decision columns; returns the number of pairs."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        blanks = ", ".join(f"NULL::VARCHAR AS {c}" for c in DECISION_COLUMNS[4:])
        frame = con.execute(f"""
            SELECT * EXCLUDE (linkage_run_id), {blanks} FROM linkage.review_queue
            ORDER BY queue_reason DESC, abs(coalesce(match_probability, 1) - 0.5), later_wave_id, later_response_id
        """).df()
    finally:
        con.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    return len(frame)


def main(argv: list[str] | None = None) -> int:
    from panel_ingest import paths

    parser = argparse.ArgumentParser(description="Export linkage.review_queue of the published warehouse as CSV.")
    parser.add_argument("--out", type=Path, default=None, help="default: $PANEL_DATA_DIR/review/review_queue.csv")
    args = parser.parse_args(argv)
    warehouse = paths.published_db_path()
    if not warehouse.exists():
        print(f"no published warehouse at {warehouse}: run `make refresh` first", file=sys.stderr)
        return 1
    target = args.out or paths.data_dir() / "review" / "review_queue.csv"
    n = export_review_queue(warehouse, target)
    print(f"review queue: {n} pairs written to {target}")
    print(f"fill in decision (match/non_match), reviewer and decided_on (YYYY-MM-DD), then save the decided rows "
          f"as {paths.data_dir() / 'linkage_decisions.csv'}; the next refresh honours them")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
