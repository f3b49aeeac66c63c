"""The score card of a subject that received joint liability through a chain of blocks: the
chained amount, where it came from, and the totals (the example of docs/language.md §13)."""

from __future__ import annotations

from pathlib import Path

from app.web.card import build_card
from dsl.compile.compiler import compile_path
from dsl.engine.evaluate import evaluate
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from tests.dsl.engine.test_joint_chains import _write


def test_the_web_card_shows_the_chain(tmp_path: Path) -> None:
    folder, data = _write(tmp_path)
    compiled = compile_path(folder)
    got = load_inputs(compiled, data / "org.json", data / "facts.jsonl")
    ev = evaluate(compiled, got.org, got.facts, Period(2025, 1), traced=("hy-policy",))
    res = next(r for r in ev.results if r.subject == "hy-policy")
    names = {"nanyue": "南岳区税务局", "nanyue-levy": "南岳征收股"}
    card = build_card(compiled, "2025", res, {}, names)
    joint = next(line for line in card.lines if line.kind == "joint")
    texts = [s.text for s in joint.steps]
    # the chained amount (50% of the 2 nanyue received), where it came from, the two totals
    assert texts[0] == "连带责任（市局对口科室）：南岳区税务局 承担的连带责任（县区局）"
    assert any(t.startswith("　来源：joint to_bureau.issue") for t in texts), texts
    assert texts[-1] == "连带责任（市局对口科室） 合计"
