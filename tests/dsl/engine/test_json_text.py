"""The results' JSON text made by orjson is, byte for byte, what `json.dumps(ensure_ascii=False,
indent=1)` makes; documents orjson would write otherwise go to the standard library."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.compile.compiler import compile_path
from dsl.engine.evaluate import evaluate
from dsl.engine.report import _plain, json_text, results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period

REPO = Path(__file__).resolve().parents[3]

leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)  # beyond 64 bits too
    | st.text()  # control characters, non-ASCII, lone surrogates
    | st.floats(allow_nan=True, allow_infinity=True)  # never to orjson (NaN would be null)
    | st.sampled_from(["", "a\nb", '"\\', "中文 ✓", "\u2028", "\x7f"])
)
documents = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.dictionaries(st.integers(0, 3), inner, min_size=1, max_size=2)
    ),  # keys made strings
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_the_same_text_as_the_standard_library(doc: Any) -> None:
    assert json_text(doc) == json.dumps(doc, ensure_ascii=False, indent=1)


def test_what_orjson_cannot_write_is_still_an_error() -> None:
    with pytest.raises(TypeError):
        json_text({"x": Decimal(1)})


@pytest.mark.parametrize("period", ["2025Q1", "2025"])
def test_an_examples_results(period: str) -> None:
    folder = REPO / "tests" / "examples" / "handworked"
    compiled = compile_path(REPO / "rules" / "2025")
    inputs = load_inputs(compiled, folder / "org.json", folder / "facts.jsonl")
    doc = results_json(evaluate(compiled, inputs.org, inputs.facts, Period.parse(period)))
    assert _plain(doc)  # written by orjson
    assert json_text(doc) == json.dumps(doc, ensure_ascii=False, indent=1)
