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
    -- DISTINCT: a raw row delivered twice is listed twice in the truth, but is one loaded response.
    SELECT DISTINCT t.wave_id, r.wave_number, t.response_id, t.person_id
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


CALIBRATION_SQL = """
SELECT least(floor(c.match_probability * 10), 9)::INTEGER AS decile, count(*) AS pairs,
       avg(c.match_probability) AS mean_probability,
       avg(CASE WHEN a.person_id = b.person_id THEN 1.0 ELSE 0.0 END) AS share_true
FROM linkage.candidate_pairs c
JOIN linkage.truth_responses a ON a.wave_id = c.wave_id AND a.response_id = c.response_id
JOIN linkage.truth_responses b ON b.wave_id = c.earlier_wave_id AND b.response_id = c.earlier_response_id
WHERE c.match_probability IS NOT NULL
GROUP BY ALL ORDER BY decile
"""


def calibration_by_decile(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per decile of the posterior the link decisions used (0 = [0, 0.1), 9 = [0.9, 1]): scored pairs,
    their mean probability and the share that are one true person (needs linkage.truth_responses)."""
    columns = ("decile", "pairs", "mean_probability", "share_true")
    return [dict(zip(columns, row)) for row in con.execute(CALIBRATION_SQL).fetchall()]
