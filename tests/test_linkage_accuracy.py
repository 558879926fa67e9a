"""Accuracy on synthetic in-memory panels (linkage.synthetic) with known truth, at 1x and 2x mess."""
from __future__ import annotations

import duckdb
import pytest

from linkage.encoding import dice_similarity
from panel_ingest.pseudonymise import email_bloom
from linkage.model import TYPO_DICE
from linkage.quality import overall_quality
from linkage.run import link_waves
from linkage.synthetic import build_population, write_staging


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """Linked panels by mess factor, each built once for the module."""
    cache = {}

    def at(mess: float):
        if mess not in cache:
            population = build_population(600, seed=5, mess=mess)
            truth = tmp_path_factory.mktemp("truth") / "responses.csv"
            population.truth.to_csv(truth, index=False)
            con = duckdb.connect()
            write_staging(con, population.responses, population.invitations)
            link_waves(con, truth)
            cache[mess] = con
        return cache[mess]
    return at


@pytest.mark.parametrize("mess", [1.0, 2.0])
def test_pairwise_precision_and_recall_meet_the_targets(linked, mess):
    con = linked(mess)
    quality = overall_quality(con)
    assert quality["true_pairs"] > 500
    assert quality["precision"] >= 0.995, quality
    assert quality["recall"] >= 0.97, quality


def test_one_response_of_record_per_person_and_wave(linked):
    con = linked(2.0)
    worst = con.execute("""SELECT max(n) FROM (SELECT count(*) AS n FROM linkage.response_persons
                           WHERE is_response_of_record GROUP BY person_id, wave_id)""").fetchone()[0]
    assert worst == 1
    orphans = con.execute("""SELECT count(*) FROM linkage.response_persons d
        WHERE NOT is_response_of_record AND NOT EXISTS (SELECT 1 FROM linkage.response_persons r
          WHERE r.is_response_of_record AND r.wave_id = d.wave_id AND r.response_id = d.duplicate_of_response_id
            AND r.person_id = d.person_id)""").fetchone()[0]
    assert orphans == 0


def test_dice_similarity_separates_a_typo_from_another_address():
    key = b"k"
    original = email_bloom("olena.kovalenko@gmail.com", key)
    assert dice_similarity(original, email_bloom(" Olena.Kovalenko@gmail.com.", key)) == 1.0
    assert dice_similarity(original, email_bloom("olena.kovalenko@gmial.com", key)) >= TYPO_DICE
    assert dice_similarity(email_bloom("olena.k@gmail.com", key), email_bloom("olena.k@gmial.com", key)) >= TYPO_DICE
    assert dice_similarity(original, email_bloom("petro.shevchuk@ukr.net", key)) < 0.55
    assert dice_similarity(original, None) is None
