"""Municipality names as people type them: the committed seed, and Python agreeing with the dbt macro."""
from __future__ import annotations

import re

import duckdb
import pytest

from panel_ingest.codebook import default_codebook
from panel_ingest.municipality_names import NAMES_SEED, names_seed_text, normalise_label, read_municipalities
from panel_ingest.paths import DBT_PROJECT_DIR

TRICKY = ["Våler (Viken)", "Trondheim - Tråante", "  Bærum ", "OSLO", "Nord\u00a0Fron", "Porsanger\u202fPorsángu",
          "Guovdageaidnu - Kautokeino", "Kárášjohka", "Unjárga - Nesseby", "Deatnu\tTana", "Herøy", "Snåase - Snåsa",
          "Aarborte - Hattfjelldal", "LOABÁK - LAVANGEN", "", "   ", "Ørland\n"]


def test_committed_names_seed_equals_what_the_module_generates():
    assert NAMES_SEED.read_text(encoding="utf-8") == names_seed_text(read_municipalities())


def _macro_sql(column: str) -> str:
    """The dbt macro's body with `column` substituted (no dbt needed to evaluate it)."""
    text = (DBT_PROJECT_DIR / "macros" / "normalise_label.sql").read_text(encoding="utf-8")
    body = re.search(r"{%-?\s*macro normalise_label\(column\)\s*-?%}(.*?){%-?\s*endmacro", text, re.S).group(1)
    return body.replace("{{ column }}", column).strip()


def test_python_normalise_label_agrees_with_the_dbt_macro_in_duckdb():
    con = duckdb.connect()
    sql = _macro_sql("label")
    for label in TRICKY:
        in_duckdb = con.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS label)", [label]).fetchall()[0][0]
        assert (normalise_label(label) or "") == (in_duckdb or ""), repr(label)


@pytest.mark.parametrize("typed, code", [("Våler (Viken)", "3114"), ("våler(innlandet)", "3419"),
                                         ("Trondheim - Tråante", "5001"), ("TRONDHEIM", "5001"), ("Tråante", "5001"),
                                         ("Sør\u00a0-Fron", "3438"), ("Kautokeino", "5612"), ("Herøy", None)])
def test_typed_names_resolve_through_the_seed(typed, code):
    codes = default_codebook().municipality_name_codes()
    key = normalise_label(typed)
    assert key in codes and codes[key] == code  # None: ambiguous (the cell is set missing at ingest)
