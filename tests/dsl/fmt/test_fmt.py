"""The formatter: golden files, idempotence, meaning and comments kept, random expressions."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.compile.canonical import digest
from dsl.fmt.formatter import FormatError, format_module, format_source, run_fmt
from dsl.syntax import nodes as n
from dsl.syntax.parser import parse_text, rule_files
from dsl.syntax.program import load

REPO = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).with_name("golden")
YEARS = ["2024", "2025"]
SHIPPED = [p for year in YEARS for p in rule_files(REPO / "rules" / year)]
GOLDEN_INPUTS = sorted(GOLDEN.glob("*.jx"))


def _id(p: Path) -> str:
    return str(p.relative_to(REPO))


def _comments(text: str) -> Counter[str]:
    module = parse_text(text, "x.jx").module
    assert module is not None
    return Counter(c.text.rstrip() for c in module.comments)


# ---- golden files ---------------------------------------------------------------------------
@pytest.mark.parametrize("source", GOLDEN_INPUTS, ids=lambda p: p.stem)
def test_golden(source: Path) -> None:
    expected_path = source.with_suffix(".formatted")
    result = format_source(source.read_text(encoding="utf-8"), source.name)
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(result, encoding="utf-8")
    assert result == expected_path.read_text(encoding="utf-8")


def test_golden_files_exist() -> None:
    assert {p.stem for p in GOLDEN_INPUTS} >= {"scorecard", "expressions", "declarations"}
    assert all(p.with_suffix(".formatted").exists() for p in GOLDEN_INPUTS)


# ---- properties of every shipped and golden file --------------------------------------------
ALL_FILES = SHIPPED + GOLDEN_INPUTS + sorted(GOLDEN.glob("*.formatted"))


@pytest.mark.parametrize("path", ALL_FILES, ids=_id)
def test_idempotent_and_faithful(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = format_source(text, path.name)
    assert format_source(once, path.name) == once
    before, after = parse_text(text, "f.jx").module, parse_text(once, "f.jx").module
    assert before is not None and after is not None
    assert after == before
    assert _comments(once) == _comments(text)
    assert all(line == line.rstrip() for line in once.splitlines())


@pytest.mark.parametrize("path", SHIPPED, ids=_id)
def test_shipped_files_are_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_source(text, path.name) == text


@pytest.mark.parametrize("year", YEARS)
def test_digest_unchanged_by_formatting(year: str, tmp_path: Path) -> None:
    root = tmp_path / year
    shutil.copytree(REPO / "rules" / year, root)
    # Scramble the layout first, so the formatter has real work to do.
    for file in rule_files(root):
        text = file.read_text(encoding="utf-8")
        file.write_text(text.replace("  ", "    ").replace("\n\n", "\n\n\n"), encoding="utf-8")
    before = load(root)
    assert not before.diagnostics
    assert run_fmt([str(root)], check_only=False) == 0
    after = load(root)
    assert not after.diagnostics
    assert digest(after.program) == digest(before.program)
    assert [m.decls for m in after.modules] == [m.decls for m in before.modules]
    assert digest(after.program) == digest(load(REPO / "rules" / year).program)


def test_comment_inside_expression_moves_above_its_statement() -> None:
    text = "scorecard s for q {\n  final max(1,  # why\n    2)\n}\n"
    assert format_source(text, "f.jx") == "scorecard s for q {\n  # why\n  final max(1, 2)\n}\n"


def test_not_over_a_comparison_keeps_parentheses() -> None:
    text = "scorecard s for q {\n  final not (a == b) and not c\n}\n"
    assert format_source(text, "f.jx") == text


def test_syntax_error_raises_with_diagnostic() -> None:
    with pytest.raises(FormatError) as info:
        format_source("scorecard s for q {\n  final 1 +\n}\n", "bad.jx")
    assert info.value.diagnostics[0].headline().startswith("bad.jx:3:1: error[E001]: unexpected")


def test_duplicate_statement_is_refused_not_dropped() -> None:
    with pytest.raises(FormatError) as info:
        format_source("scorecard s for q {\n  floor 1\n  floor 2\n}\n", "dup.jx")
    d = info.value.diagnostics[0]
    assert (d.code, d.span.line) == ("E003", 3)
    assert "a scorecard has one `floor` statement" in d.message


# ---- run_fmt --------------------------------------------------------------------------------
def test_run_fmt_check_then_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = tmp_path / "a.jx"
    messy.write_text("sequence s = person   # all\n", encoding="utf-8")
    tidy = tmp_path / "sub" / "b.jx"
    tidy.parent.mkdir()
    tidy.write_text("sequence t = person\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a rule file", encoding="utf-8")

    assert run_fmt([str(tmp_path)], check_only=True) == 1
    out, err = capsys.readouterr()
    assert out == f"would reformat: {messy}\n"
    assert err == "1 file(s) would be reformatted, 1 unchanged\n"
    assert messy.read_text(encoding="utf-8") == "sequence s = person   # all\n"

    assert run_fmt([str(tmp_path)], check_only=False) == 0
    assert messy.read_text(encoding="utf-8") == "sequence s = person  # all\n"
    assert capsys.readouterr().err == "1 file(s) reformatted, 1 unchanged\n"
    assert run_fmt([str(tmp_path)], check_only=True) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jx", "notes.txt", "sub"]


def test_run_fmt_reports_syntax_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jx"
    bad.write_text("fact f dated on unit {\n  x number\n}\n", encoding="utf-8")
    good = tmp_path / "good.jx"
    good.write_text("sequence s  =  person\n", encoding="utf-8")
    assert run_fmt([str(tmp_path), str(tmp_path / "missing")], check_only=False) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"jixiao fmt: no such file or folder: {tmp_path / 'missing'}"
    assert err[1].startswith(f"{bad}:2:5: error[E001]: unexpected name 'number'; expected ':'")
    assert err[2:4] == [" 2 |   x number", "   |     ^^^^^^"]
    assert err[4:] == ["1 file(s) reformatted, 0 unchanged, 2 failed"]
    assert bad.read_text(encoding="utf-8") == "fact f dated on unit {\n  x number\n}\n"
    assert good.read_text(encoding="utf-8") == "sequence s = person\n"


def test_rules_folder_passes_check() -> None:
    assert run_fmt([str(REPO / "rules")], check_only=True) == 0


# ---- random expressions ---------------------------------------------------------------------
_NAMES = ["a", "b", "value", "rank", "final", "period", "desc", "by", "max", "hy-office"]
_NUMS = ["0", "1", "2.5", "0.85", "1.50", "20%", "100", "-3", "-0.5"]
_OPS: list[n.BinOp] = ["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "and", "or"]


def _num(text: str) -> n.Num:
    body = text.rstrip("%")
    value = Decimal(body) / 100 if text.endswith("%") else Decimal(body)
    return n.Num(value, text)


def _extend(inner: st.SearchStrategy[n.Expr]) -> st.SearchStrategy[n.Expr]:
    names = st.sampled_from(_NAMES)
    not_num = inner.filter(lambda e: not isinstance(e, n.Num))
    table = st.lists(st.sampled_from(_NAMES), min_size=0, max_size=3, unique=True).map(
        lambda keys: n.Table(tuple(n.TableEntry(k, _num("1")) for k in keys))
    )
    by = st.none() | st.builds(n.ByTable, names.map(n.Ref), table)
    order = st.sampled_from([None, "asc", "desc"])
    arg = st.builds(n.Arg, inner, order, by)
    keys = st.lists(st.sampled_from([*_NAMES, "else"]), min_size=1, max_size=3, unique=True)
    arms = st.tuples(keys, st.lists(inner, min_size=3, max_size=3)).map(
        lambda ka: tuple(n.MatchArm(k, v) for k, v in zip(ka[0], ka[1], strict=False))
    )
    return st.one_of(
        st.builds(n.Binary, st.sampled_from(_OPS), inner, inner),
        st.builds(n.Unary, st.just("not"), inner),
        st.builds(n.Unary, st.just("-"), not_num),
        st.builds(n.If, inner, inner, inner),
        st.builds(
            n.Call, st.sampled_from(["max", "value", "f"]), st.lists(arg, max_size=3).map(tuple)
        ),
        st.builds(n.Match, inner, arms),
        st.builds(n.Attr, inner, names.map(n.Ref)),
        st.builds(n.Index, inner, inner),
    )


_LEAVES: st.SearchStrategy[n.Expr] = st.one_of(
    st.sampled_from(_NUMS).map(_num),
    st.sampled_from(_NAMES).map(n.Name),
    st.text(alphabet='ab"\\\n\t#', max_size=4).map(n.Str),
)
EXPRS = st.recursive(_LEAVES, _extend, max_leaves=12)


def _card(expr: n.Expr) -> n.Module:
    component = n.Component("c", None, _num("100%"), _num("100"), (), n.ScoreRule(expr))
    card = n.Scorecard(
        "s", None, n.Ref("q"), (), None, (), (component,), None, None, None, None, (), None, None
    )
    return n.Module("random.jx", (card,))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRS)
def test_random_expressions_round_trip(expr: n.Expr) -> None:
    module = _card(expr)
    text = format_module(module)
    parsed = parse_text(text, "random.jx")
    assert parsed.diagnostics == [], text
    assert parsed.module == module, text
    assert format_source(text, "random.jx") == text
