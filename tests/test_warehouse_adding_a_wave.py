"""Adding w3 to a published warehouse built from w1 and w2 keeps every existing person_id."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import generate_raw

pytestmark = pytest.mark.end_to_end


def published_query(data_dir: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def person_of_each_response(data_dir: Path) -> dict[tuple[str, str], str]:
    rows = published_query(data_dir, "select wave_id, response_id, person_id from intermediate.int_responses_linked")
    return {(wave, response): person for wave, response, person in rows}


@pytest.fixture(scope="module")
def panel_before_and_after_w3(tmp_path_factory, run_refresh):
    data_dir = tmp_path_factory.mktemp("add_wave") / "data"
    raw = generate_raw(data_dir, scale="0.3", seed="3")
    parked = data_dir / "parked_w3"
    shutil.move(raw / "survey" / "w3_2024", parked)
    first = run_refresh(data_dir)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    before = person_of_each_response(data_dir)
    shutil.move(parked, raw / "survey" / "w3_2024")
    second = run_refresh(data_dir)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    return data_dir, before, person_of_each_response(data_dir)


def test_every_existing_person_keeps_its_id(panel_before_and_after_w3):
    _, before, after = panel_before_and_after_w3
    assert before and {wave for wave, _ in before} == {"w1_2022", "w2_2023"}
    assert {key: after[key] for key in before} == before


def test_w3_joins_existing_persons_and_only_w3_was_linked_again(panel_before_and_after_w3):
    data_dir, before, after = panel_before_and_after_w3
    w3_persons = {person for (wave, _), person in after.items() if wave == "w3_2024"}
    assert w3_persons & set(before.values()), "some w3 respondents are earlier panel members"
    (waves_linked_last,) = published_query(
        data_dir, "select waves from linkage.runs order by finished_at desc limit 1")[0]
    assert waves_linked_last == ["w3_2024"]
    assert published_query(data_dir, "select max(length(wave_pattern)) from marts.persons")[0][0] == 3
