"""link_waves pauses Python's cyclic garbage collector while it links (linkage.run.cyclic_gc_paused) and
leaves it as it found it, also when linking fails."""
from __future__ import annotations

import gc

import duckdb
import pytest

from linkage import run
from linkage.synthetic import build_population, write_staging


def test_the_collector_is_off_inside_and_as_before_after():
    assert gc.isenabled()
    with run.cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with run.cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_link_waves_links_with_the_collector_off_and_restores_it_after_a_failure(monkeypatch):
    population = build_population(60, seed=3)
    con = duckdb.connect()
    write_staging(con, population.responses, population.invitations)
    seen = []
    real_link_wave = run.link_wave

    def watched(responses, history):
        seen.append(gc.isenabled())
        return real_link_wave(responses, history)

    monkeypatch.setattr(run, "link_wave", watched)
    run.link_waves(con)
    assert seen == [False, False, False] and gc.isenabled()

    def failing(responses, history):
        raise RuntimeError("linking failed")

    monkeypatch.setattr(run, "link_wave", failing)
    con.execute("DELETE FROM linkage.response_persons")  # every wave to link again
    with pytest.raises(RuntimeError, match="linking failed"):
        run.link_waves(con)
    assert gc.isenabled()
