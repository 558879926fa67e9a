"""End to end on a data root without synthetic truth (like a real delivery): the refresh fills the
estimated linkage quality; the review queue is exported (`make review`); two clerical decisions, a split
of an accepted link and a join of a rejected pair, are honoured by the next refresh, which changes no
other person id and records both decisions."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import duckdb
import pytest

from linkage.decisions import DECISION_COLUMNS
from tests.conftest import PROJECT_ROOT, generate_raw, panel_env, refresh_subprocess

SCALE = "0.2"


def published(data_dir):
    return duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)


def refresh(data_dir):
    result = refresh_subprocess(data_dir)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.fixture(scope="module")
def refreshed_without_truth(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("review_loop") / "data"
    generate_raw(data_dir, scale=SCALE)
    shutil.rmtree(data_dir / "raw" / "_truth")
    refresh(data_dir)
    return data_dir


def test_a_refresh_without_truth_fills_the_estimated_columns(refreshed_without_truth):
    with published(refreshed_without_truth) as con:
        rows = con.execute("""SELECT method, true_pairs, precision, predicted_pairs, estimated_precision,
                                     estimated_recall, estimated_f1, estimated_precision_low, estimated_recall_high
                              FROM marts.linkage_quality""").df()
    assert not rows.empty
    everything = rows[rows.method == "all"]
    assert len(everything) >= 3  # every pair of the three waves
    assert everything[["estimated_precision", "estimated_recall", "estimated_f1"]].notna().all().all()
    assert everything.estimated_precision.between(0.9, 1).all()
    assert rows.true_pairs.isna().all() and rows.precision.isna().all()


def test_review_decisions_are_honoured_by_the_next_refresh(refreshed_without_truth):
    data_dir = refreshed_without_truth
    exported = subprocess.run([sys.executable, "-m", "linkage.review"], cwd=PROJECT_ROOT, text=True,
                              capture_output=True, env=panel_env(data_dir))
    queue_csv = data_dir / "review" / "review_queue.csv"
    assert exported.returncode == 0 and str(queue_csv) in exported.stdout
    with queue_csv.open(newline="", encoding="utf-8") as handle:
        queue = list(csv.DictReader(handle))
    assert queue and not [c for c in queue[0] if "hash" in c or "bloom" in c]
    with published(data_dir) as con:
        before = dict(con.execute("SELECT wave_id || ':' || response_id, person_id FROM linkage.response_persons").fetchall())
        audit = [r for r in queue if r["queue_reason"] == "audit_sample"]
        split = next((r["earlier_wave_id"], r["earlier_response_id"], r["later_wave_id"], r["later_response_id"])
                     for r in audit if r["link_method"] == "token")
        join = con.execute("""
            SELECT c.earlier_wave_id, c.earlier_response_id, c.wave_id, c.response_id
            FROM linkage.candidate_pairs c
            JOIN linkage.response_persons l ON l.wave_id = c.wave_id AND l.response_id = c.response_id
            WHERE NOT c.is_linked AND c.match_probability < 0.8 AND l.person_id <> c.person_id
              AND NOT EXISTS (SELECT 1 FROM linkage.response_persons x WHERE x.wave_id = c.wave_id AND x.person_id = c.person_id)
            ORDER BY c.match_probability DESC, c.response_id LIMIT 1""").fetchone()
        moved = set(con.execute("""SELECT r.wave_id || ':' || r.response_id FROM linkage.response_persons r
            JOIN linkage.response_persons k ON k.wave_id = r.wave_id AND k.person_id = r.person_id
            WHERE (k.wave_id, k.response_id) IN ((?, ?), (?, ?))""", [*split[2:], *join[2:]]).fetchall())
    rows = [dict(zip(DECISION_COLUMNS, (*split, "non_match", "data-manager", "2026-11-28"))),
            dict(zip(DECISION_COLUMNS, (*join, "match", "data-manager", "2026-11-28")))]
    with (data_dir / "linkage_decisions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(DECISION_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)

    refresh(data_dir)

    with published(data_dir) as con:
        after = dict(con.execute("SELECT wave_id || ':' || response_id, person_id FROM linkage.response_persons").fetchall())
        recorded = con.execute("""SELECT decision, status FROM linkage.decisions_applied
            WHERE linkage_run_id = (SELECT max_by(linkage_run_id, started_at) FROM linkage.runs) ORDER BY file_row""").fetchall()
        honoured = con.execute("""SELECT parameters->'$.review_decisions.honoured' FROM linkage.runs
                                  ORDER BY started_at DESC LIMIT 1""").fetchone()[0]
    key = lambda wave, response: f"{wave}:{response}"  # noqa: E731
    assert after[key(*split[:2])] != after[key(*split[2:])]
    assert after[key(*join[:2])] == after[key(*join[2:])]
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed and changed <= {k for (k,) in moved}
    assert recorded == [("non_match", "honoured"), ("match", "honoured")] and honoured == "2"
