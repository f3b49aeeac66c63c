"""The cyclic collector paused while facts are read or results built, and resumed after."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from dsl.facts.inputs import gc_paused


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    gc.collect()
    yield
    if not was:
        gc.disable()


def test_a_pause_resumes_the_collector_only_if_it_was_running(collector: None) -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the outer pause resumes it
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_was_built_in_a_keeping_pause_is_old_and_not_frozen(collector: None) -> None:
    kept: list[list[int]] = []
    with gc_paused(keeping=True):
        assert not gc.isenabled()
        kept.extend([i] for i in range(1000))
        young = {id(o) for o in gc.get_objects(generation=0)}
        assert id(kept[0]) in young
    assert gc.isenabled() and gc.get_freeze_count() == 0
    # taken as old without a collection: in the oldest generation, none young
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(kept[0]) in oldest and id(kept[-1]) in oldest
    assert id(kept[0]) not in {id(o) for o in gc.get_objects(generation=0)}
    # a cycle made inside is freed by the next full collection
    with gc_paused(keeping=True):
        node = _Node()
        node.me = node
        ref = weakref.ref(node)
        del node
    assert ref() is not None
    gc.collect()
    assert ref() is None


class _Node:
    me: object = None
