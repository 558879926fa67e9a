"""On the default data set of the project's generator (the session's demo warehouse, with truth), the
estimated linkage quality in marts.linkage_quality is within 1 percentage point of the truth."""
from __future__ import annotations

import duckdb


def test_estimated_quality_of_the_demo_warehouse_is_within_one_point_of_the_truth(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse / "warehouse.duckdb"), read_only=True)
    predicted, true_pairs, positives, false, missed = con.execute("""
        SELECT sum(predicted_pairs), sum(true_pairs), sum(true_positive_pairs), sum(estimated_false_pairs),
               sum(estimated_missed_pairs)
        FROM marts.linkage_quality WHERE method = 'all'""").fetchone()
    assert true_pairs > 500
    estimated_positives = predicted - false
    assert abs(estimated_positives / predicted - positives / predicted) <= 0.01
    assert abs(estimated_positives / (estimated_positives + missed) - positives / true_pairs) <= 0.01
