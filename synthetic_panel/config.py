"""Calibration targets, field periods and mess rates of the synthetic data set (scale 1, mess 1)."""
from __future__ import annotations

import datetime as dt

WAVES = ("w1_2022", "w2_2023", "w3_2024")  # the published waves; later ones follow `wave_ids`
FIELD_PERIODS = {
    "w1_2022": (dt.date(2022, 6, 1), dt.date(2022, 7, 15)),
    "w2_2023": (dt.date(2023, 5, 2), dt.date(2023, 6, 20)),
    "w3_2024": (dt.date(2024, 9, 16), dt.date(2024, 11, 10)),
}
MAX_WAVES = 12


def wave_ids(n_waves: int) -> tuple[str, ...]:
    """`w1_2022` ... : wave N is fielded in 2021 + N (waves 4.. in the w3 SPSS layout)."""
    return tuple(f"w{n}_{2021 + n}" for n in range(1, n_waves + 1))


def wave_number(wave_id: str) -> int:
    return int(wave_id[1:wave_id.index("_")])


def wave_year(wave_id: str) -> int:
    return int(wave_id[-4:])


def layout_of(wave_id: str) -> str:
    """The published wave whose export layout a wave uses (waves after w3 keep the w3 SPSS layout)."""
    return WAVES[min(wave_number(wave_id), 3) - 1]


def field_period(wave_id: str) -> tuple[dt.date, dt.date]:
    """The published field periods; a later wave is fielded in the autumn of its year, like w3."""
    if wave_id in FIELD_PERIODS:
        return FIELD_PERIODS[wave_id]
    year = wave_year(wave_id)
    return dt.date(year, 9, 15), dt.date(year, 11, 9)


def later_wave_shares(wave_id: str) -> dict[str, float]:
    """Aspirations keep drifting after w3: fewer want to return as soon as the war ends, more to stay."""
    steps = wave_number(wave_id) - 3
    return {"return_asap": round(0.10 * 0.8 ** steps, 4), "stay_norway": min(0.47 + 0.05 * steps, 0.75)}

# Published survey figures (docs/domain.md) at scale 1.
W1_COMPLETE_OF_RECORD = 676
W1_COARSE_SHARES = {"return_asap": 0.25, "uncertain": 0.55, "stay_norway": 0.20}
W2_LEAVERS = 21
W2_LEAVERS_TO_UKRAINE = 17  # Table 1: 8 said "Ukraine is my home", so at least 8 went back; 2 named language, so >= 2 went onward
TABLE1_COUNTS = {1: 8, 2: 7, 3: 7, 4: 6, 5: 5, 6: 5, 7: 5, 8: 3, 9: 3, 10: 3, 11: 3, 12: 2, 13: 1, 14: 1}
REASONS_ASKED_OF = {1: "returned", 2: "returned", 5: "returned", 10: "returned", 12: "onward", 13: "onward", 14: "onward"}
W2_NORWAY_SHARES = {"return_asap": 0.12, "stay_norway": 0.34}  # the rest (54 %) is return_later/move_onward/uncertain
W3_NORWAY_SHARES = {"return_asap": 0.10, "stay_norway": 0.47}

# Panel sizes at scale 1 (chosen to look like the published surveys).
W2_NEWCOMERS = 720
W3_NEWCOMERS = 560
LATER_NEWCOMERS = 420  # per wave from w4 on
LATER_LEAVE_SHARE = 0.06  # of those in Norway, leave between two later waves
LATER_COMEBACK_SHARE = 0.2  # of the leavers who answered abroad, come back to Norway before a later wave
FAMILY_PAIRS_W1 = 20  # relatives who both answer w1: same oblast, arrival month and municipality

# Every rate below is multiplied by --mess (0 turns the kind off). Rates are per row or per person as noted.
MESS_RATES = {
    "duplicate_submission": 0.02,   # per complete respondent: an earlier, near-identical complete submission
    "partial_then_complete": 0.01,  # per complete respondent: an abandoned partial before the complete one
    "partial_only": 0.02,           # per complete respondent: an extra person whose only submission is partial
    "test_submission": 0.01,        # per row: survey-team test rows before the field period (no person)
    "out_of_range_value": 0.01,     # per row: birth year 1899 / 99 children, on an extra (non-record) row
    "unknown_code": 0.01,           # per row: a code not in the list, on an extra (non-record) row
    "duplicated_response_id": 0.003,  # per row: an exported row repeated with the same response id
    "token_ignored": 0.03,          # per token respondent: answers through the open link instead
    "email_formatting": 0.03,       # per typed address: spaces, capitals or a trailing dot
    "shared_family_email": 0.35,    # per relative pair: the second relative types the first's address
    "inconsistent_report": 0.01,    # per later-wave panel response: birth year or arrival month off by one
    "label_formatting": 0.03,       # per w1 row: oblast label with odd case or spacing
    "municipality_formatting": 0.03,  # per typed municipality name (w1, w2): odd case or spacing
    # Optional-cell defects on responses of record (real panel members), never in a cell a published figure
    # uses (aspiration, exit reasons, country, completion). Per record; at least one of each kind per wave
    # where the layout allows it (and mess > 0). Each lands in `_truth/defects.csv`.
    "record_out_of_range": 0.004,      # birth year 1899 or 99 children
    "record_unknown_code": 0.004,      # gender, language, partner or war duration code not in the list
    "unparseable_date": 0.002,         # arrival month `2022-13` / `13/2022` (text layouts only)
    "impossible_date": 0.003,          # arrival before the war, or (SPSS waves) leaving before arriving
    "unknown_municipality": 0.004,     # a place that is not a municipality (`Sandvika`), or code 9999
    "ambiguous_municipality": 0.002,   # `Herøy` / `Våler` typed by a resident of one of them (text layouts)
    "address_in_free_text": 0.002,     # the respondent's e-mail address typed into the municipality field
}
# How a panel member who ignores the token types the address on the open link.
TOKEN_IGNORED_EMAIL = {"same": 0.5, "changed": 0.25, "typo": 0.25}
