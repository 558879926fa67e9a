"""Pairwise linkage quality against synthetic truth (the same definition as marts.linkage_quality)."""
from __future__ import annotations

import duckdb

PAIRWISE_QUALITY_SQL = """
WITH predicted AS (
    SELECT a.wave_id AS wave_from, b.wave_id AS wave_to, a.response_id AS response_from,
           b.response_id AS response_to, b.link_method AS method
    FROM linkage.response_persons a
    JOIN linkage.response_persons b ON a.person_id = b.person_id AND a.wave_number < b.wave_number
), loaded_truth AS (
    -- Only responses that were loaded can be linked; quarantined rows are accounted for by ingest.
    SELECT t.wave_id, r.wave_number, t.response_id, t.person_id
    FROM linkage.truth_responses t
    JOIN linkage.response_persons r USING (wave_id, response_id)
), truth AS (
    SELECT a.wave_id AS wave_from, b.wave_id AS wave_to, a.response_id AS response_from, b.response_id AS response_to
    FROM loaded_truth a
    JOIN loaded_truth b ON a.person_id = b.person_id AND a.wave_number < b.wave_number
), scored AS (
    SELECT p.*, t.response_to IS NOT NULL AS is_true
    FROM predicted p LEFT JOIN truth t USING (wave_from, wave_to, response_from, response_to)
)
SELECT count(*) FILTER (WHERE is_true) AS true_positives, count(*) AS predicted_pairs,
       (SELECT count(*) FROM truth) AS true_pairs
FROM scored
"""


def overall_quality(con: duckdb.DuckDBPyConnection) -> dict:
    """Precision, recall and F1 over all cross-wave response pairs (needs linkage.truth_responses)."""
    true_positives, predicted, true_pairs = con.execute(PAIRWISE_QUALITY_SQL).fetchone()
    precision = true_positives / predicted if predicted else 1.0
    recall = true_positives / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_pairs": true_pairs, "predicted_pairs": predicted, "true_positives": true_positives,
            "precision": precision, "recall": recall, "f1": f1}
