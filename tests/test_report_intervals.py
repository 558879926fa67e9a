"""`marts.aspiration_by_wave` carries 95 % Wilson intervals: on the base n for `share`, on Kish's effective
sample size for `weighted_share` (the same formula as the report's Python)."""
from __future__ import annotations

import duckdb
import pytest

from panel_report.warehouse import wilson_interval


@pytest.fixture(scope="module")
def shares(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select *, sum(n) over (partition by wave_id, scale) as base_n "
                           "from marts.aspiration_by_wave").df()
    finally:
        con.close()


def test_share_intervals_are_wilson_on_the_base(shares):
    for row in shares.itertuples():
        assert (row.share_ci_lower, row.share_ci_upper) == pytest.approx(wilson_interval(row.share, row.base_n), abs=1e-12)
        assert row.share_ci_lower <= row.share <= row.share_ci_upper


def test_weighted_intervals_use_kish_effective_sample_size(shares):
    assert ((shares.n_effective > 0) & (shares.n_effective <= shares.base_n + 1e-9)).all()
    assert shares.groupby(["wave_id", "scale"]).n_effective.nunique().eq(1).all()  # one base per wave and scale
    for row in shares.itertuples():
        expected = wilson_interval(row.weighted_share, row.n_effective)
        assert (row.weighted_share_ci_lower, row.weighted_share_ci_upper) == pytest.approx(expected, abs=1e-12)
    # unequal weights cost precision: wider than an interval on the base n at the same share
    for row in shares.itertuples():
        low, high = wilson_interval(row.weighted_share, row.base_n)
        assert row.weighted_share_ci_upper - row.weighted_share_ci_lower >= high - low - 1e-12
