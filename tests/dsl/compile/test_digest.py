"""The digest: sha256 of the canonical IR, blind to layout and comments; and exact arithmetic."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest

from dsl.compile.canonical import digest
from dsl.compile.compiler import compile_path
from dsl.engine.evaluate import evaluate
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.syntax.program import load
from tests.dsl.helpers import (
    EXAMPLES,
    HANDWORKED,
    RULES_2024,
    RULES_2025,
    copy_rules,
    edit,
    score_json,
)

# A string literal, or a comment, or a run of whitespace (the grammar ignores WS and comments).
_TOKENS = re.compile(r'(?P<str>"(?:[^"\\\n]|\\.)*")|(?P<comment>#[^\n]*)|(?P<ws>\s+)')


def relayout(text: str, comments: str, spacing: str) -> str:
    """`text` with every comment replaced by `comments` and every blank run by `spacing`."""

    def repl(m: re.Match[str]) -> str:
        if m.group("str") is not None:
            return m.group("str")
        if m.group("comment") is not None:
            return comments
        return spacing

    return _TOKENS.sub(repl, text)


def digest_of(path: Path) -> str:
    """The digest of a ruleset as loaded (no checking)."""
    loaded = load(path)
    assert [d for d in loaded.diagnostics if d.is_error] == []
    return digest(loaded.program)


D2025 = digest_of(RULES_2025)


def test_digest_is_a_stable_sha256() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", D2025)
    assert digest_of(RULES_2025) == D2025
    assert compile_path(RULES_2025).digest == D2025


def test_the_2024_and_2025_rules_differ() -> None:
    d2024 = digest_of(RULES_2024)
    assert re.fullmatch(r"[0-9a-f]{64}", d2024)
    assert d2024 != D2025
    assert compile_path(RULES_2024).digest == d2024


def test_the_tests_beside_the_rules_are_not_part_of_it(tmp_path: Path) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    assert not (rules / "tests").exists()
    assert digest_of(rules) == D2025


@pytest.mark.parametrize(
    ("comments", "spacing"),
    [
        ("", " "),  # every comment gone, everything on one line
        ("# 注释 changed", "\n\n\t  "),  # comments rewritten, blank lines and tabs everywhere
    ],
)
def test_layout_and_comments_do_not_change_it(tmp_path: Path, comments: str, spacing: str) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    for f in rules.glob("*.jx"):
        text = f.read_text(encoding="utf-8")
        new = relayout(text, comments, spacing)
        assert new != text
        f.write_text(new, encoding="utf-8")
    if not comments:
        assert all("#" not in f.read_text(encoding="utf-8") for f in rules.glob("*.jx"))
    assert digest_of(rules) == D2025


def test_moving_declarations_between_files_does_not_change_it(tmp_path: Path) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    items = (rules / "items.jx").read_text(encoding="utf-8")
    start = items.index("items person_items")
    block = items[start : items.index("\n}\n", start) + 3]
    (rules / "items.jx").write_text(items.replace(block, ""), encoding="utf-8")
    with (rules / "person.jx").open("a", encoding="utf-8") as fh:
        fh.write("\n" + block)
    major = 'fact major_violation "重大违规" dated on unit {}\n'
    edit(rules / "facts.jx", major, "")
    (rules / "a_first.jx").write_text(major, encoding="utf-8")

    assert "person_items" not in (rules / "items.jx").read_text(encoding="utf-8")
    assert digest_of(rules) == D2025


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("items.jx", "cap bonus 5", "cap bonus 6"),
        ("county.jx", "floor 60", "floor 59"),
        ("joint.jx", "ratio 20%", "ratio 10%"),
        ("county.jx", "good: 0.85", "good: 0.8"),
        ("ruleset.jx", "round 2 half_up", "round 2 half_even"),
    ],
)
def test_a_change_of_meaning_changes_it(tmp_path: Path, file: str, old: str, new: str) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    edit(rules / file, old, new)
    changed = digest_of(rules)
    assert re.fullmatch(r"[0-9a-f]{64}", changed)
    assert changed != D2025


def test_the_same_number_written_differently_does_not_change_it(tmp_path: Path) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    edit(rules / "county.jx", "good: 0.85", "good: 0.850")
    edit(rules / "items.jx", "cap bonus 5", "cap bonus 5.0")
    assert digest_of(rules) == D2025


def test_a_reformatted_copy_compiles_with_its_own_files(tmp_path: Path) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "r")
    county = rules / "county.jx"
    county.write_text("# one more line\n" + county.read_text(encoding="utf-8"), encoding="utf-8")
    original = compile_path(RULES_2025)
    copy = compile_path(rules)
    assert copy.digest == original.digest
    # same meaning, but a runtime error or a trace must point into the copy, one line lower
    assert copy.scorecards["county"].span.path.endswith("r/county.jx")
    assert copy.scorecards["county"].span.line == original.scorecards["county"].span.line + 1
    assert copy.program.tests == {}
    assert len(original.program.tests) == 6


def test_the_json_output_carries_it(capsys: pytest.CaptureFixture[str]) -> None:
    got = score_json(capsys, RULES_2025, HANDWORKED, "2025Q1")
    assert got["ruleset"]["digest"] == D2025
    assert got["ruleset"]["year"] == 2025
    under_2024 = score_json(capsys, RULES_2024, HANDWORKED, "2025Q1")
    assert under_2024["ruleset"]["digest"] == digest_of(RULES_2024)


# ---- exact arithmetic ----------------------------------------------------------------------


def test_the_precision_example_is_exact() -> None:
    compiled = compile_path(RULES_2025)
    ex = EXAMPLES / "precision"
    inputs = load_inputs(compiled, ex / "org.json", ex / "facts.jsonl")
    ev = evaluate(compiled, inputs.org, inputs.facts, Period.parse("2025Q1"))
    (person,) = [r for r in ev.results if r.subject == "nanyue-levy-1"]

    # ability (70 + 71 + 73) / 3, evaluation (80 + 81 + 80 + 81 + 82 + 81) / 6
    assert person.parts["ability"] == Fraction(214, 3)
    assert person.parts["evaluation"] == Fraction(485, 6)
    # 0.7 × 100 + 0.1 × (214/3 + 97 + 485/6) = 1139/12 = 94.91666…
    assert isinstance(person.base, Fraction)
    assert person.base == Fraction(1139, 12)
    # 0.9 × 1139/12 + 0.1 × 60 = 91.425 exactly, published half up as 91.43
    assert person.final == Fraction(3657, 40)
    assert person.as_json(2, "half_up")["final"] == "91.43"


def test_a_28_digit_decimal_would_get_the_precision_example_wrong() -> None:
    """The example discriminates: the same sums in a 28-digit context round to 91.42."""
    with localcontext() as ctx:
        ctx.prec = 28
        ability = (Decimal(70) + 71 + 73) / 3
        evaluation = (Decimal(80) + 81 + 80 + 81 + 82 + 81) / 6
        base = Decimal("0.7") * 100 + Decimal("0.1") * (ability + 97 + evaluation)
        final = Decimal("0.9") * base + Decimal("0.1") * 60
    assert final.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == Decimal("91.42")


def test_json_decimals_are_strings_with_two_places(capsys: pytest.CaptureFixture[str]) -> None:
    got = score_json(capsys, RULES_2025, EXAMPLES / "precision", "2025Q1")
    text = json.dumps(got)
    assert '"ability": "71.33"' in text
    assert '"evaluation": "80.83"' in text
    assert '"base": "94.92"' in text
