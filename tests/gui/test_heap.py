"""The window's garbage-collector settings: off during start-up, what start-up made frozen afterwards."""

from __future__ import annotations

import gc

import pytest

from vaeviewer.gui.heap import collector_paused, freeze_long_lived


@pytest.fixture(autouse=True)
def _restore_collector():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    gc.enable() if enabled else gc.disable()


def test_the_collector_is_off_inside_and_what_was_made_is_frozen_after() -> None:
    gc.unfreeze()
    with collector_paused():
        assert not gc.isenabled()
        made = [[k] for k in range(10_000)]  # 10,001 container objects
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made)


def test_an_error_inside_turns_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a bad option")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_full_collection_skips_frozen_objects() -> None:
    gc.unfreeze()
    kept = [{"k": k} for k in range(50_000)]
    freeze_long_lived()
    frozen = gc.get_freeze_count()
    assert frozen >= len(kept)
    gc.collect()
    assert gc.get_freeze_count() == frozen, "frozen objects stay out of the generations a collection scans"
    assert len(kept) == 50_000
