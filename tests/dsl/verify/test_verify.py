"""`jixiao verify` on small rulesets where one property fails, and on the shipped years."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from dsl.check.checker import check
from dsl.check.intervals import Interval
from dsl.syntax import nodes as n
from dsl.syntax.errors import Diagnostic
from dsl.syntax.program import load
from dsl.verify import signs
from dsl.verify.model import Report
from dsl.verify.run import verify
from dsl.verify.signs import Sign
from tests.conftest import REPO_ROOT

BASE = """ruleset "验证" {
  year 2025
  periods quarter, year
  round 2 half_up
}

organisation {
  unit kinds {
    dept "科室"
  }
}

sequence units "科室" = unit dept

fact late "迟报" dated on unit {
  owner: unit?
}

fact award "获奖" period on unit {}

fact rating "评分" period on unit {
  value: number in 0..100
}
"""

CARD = """scorecard c "测试" for units {
  periods quarter, year

  category work "工作" weight 100% max 100 {
    indicator A "甲" points 60 {
      RULE_A
    }

    indicator B "乙" points 40 {
      RULE_B
    }
  }
EXTRA}
"""


def _card(
    rule_a: str = "deduct per late 2 floor 0",
    rule_b: str = "score 40 * value(rating.value) / 100",
    extra: str = "",
) -> str:
    return CARD.replace("RULE_A", rule_a).replace("RULE_B", rule_b).replace("EXTRA", extra)


def _verify(tmp_path: Path, *files: str, checked: bool = True) -> tuple[Report, Path]:
    root = tmp_path / "2025"
    root.mkdir(parents=True)
    (root / "base.jx").write_text(BASE, encoding="utf-8")
    for i, text in enumerate(files):
        (root / f"f{i}.jx").write_text(text, encoding="utf-8")
    loaded = load(root)
    if checked:
        assert [d.headline() for d in check(loaded) if d.is_error] == []
    return verify(loaded), root


def _found(report: Report) -> list[tuple[str, str, int, int]]:
    return [(d.code, Path(d.span.path).name, d.span.line, d.span.column) for d in report.findings]


def _message(report: Report, code: str) -> Diagnostic:
    return next(d for d in report.findings if d.code == code)


def _rows(report: Report, section: str) -> dict[str, tuple[str, str, str]]:
    return {r.what: (r.value, r.declared, r.how) for r in report.rows["c"] if r.section == section}


def test_a_sound_scorecard_has_its_ranges_and_no_finding(tmp_path: Path) -> None:
    """A deducts 2 per late report down to 0, B is 40% of a rating: final 0 .. 100."""
    report, _ = _verify(tmp_path, _card())
    assert _found(report) == []
    ranges = _rows(report, "ranges")
    assert ranges["A 甲"] == ("0 .. 60", "60 points", "exact")
    assert ranges["B 乙"] == ("0 .. 40", "40 points", "exact")
    assert ranges["work 工作"] == ("0 .. 100", "100 max", "exact")
    assert ranges["final"] == ("0 .. 100", "", "exact")
    mono = _rows(report, "monotonic")
    assert mono["A: deduct per late"] == (
        "lowers final",
        "lowers",
        "proved from the form of the rules",
    )


def test_an_indicator_that_never_reaches_its_points(tmp_path: Path) -> None:
    """B is capped at 30 of its 40 points: V103 at B's name."""
    rule_b = "score min(30, 40 * value(rating.value) / 100)"
    report, _ = _verify(tmp_path, _card(rule_b=rule_b))
    assert _found(report) == [("V103", "f0.jx", 9, 15)]
    assert _message(report, "V103").message == (
        "B can never reach its 40 points: it scores at most 30"
    )


def test_signs_of_bonus_penalty_and_joint_in_a_written_final(tmp_path: Path) -> None:
    """final = base - bonus + penalty + joint: each item and the joint move it the wrong way."""
    items = 'items t "加减分" {\n  bonus award 1\n  penalty late 1\n}\n'
    joint = (
        'joint j "连带" into c {\n  link x: c fact late -> owner amount 1\n  cap 3 per period\n}\n'
    )
    extra = "\n  items t\n  final base - bonus + penalty + joint\n"
    report, _ = _verify(tmp_path, _card(extra=extra), items, joint, checked=False)
    found = _found(report)
    assert ("V201", "f1.jx", 2, 3) in found  # bonus award
    assert ("V201", "f1.jx", 3, 3) in found  # penalty late
    assert ("V202", "f0.jx", 1, 1) in found
    assert _message(report, "V202").message == "joint liability raises the final of 'c'"
    # A lowers the final, the penalty on the same facts raises it: both ways
    both = next(d for d in report.findings if d.span.line == 1 and d.code == "V201")
    assert both.message == "fact late, every use cannot be shown to only lower the final of 'c'"
    assert both.notes == ("its parts move the final both ways",)


def test_randomised_search_proves_or_refutes_a_rule_over_counts(tmp_path: Path) -> None:
    """`if count(late) >= 3`: 0 points lowers (searched); 60 points raises, with an example."""
    items = 'items t "加减分" {\n  penalty late 1\n}\n'
    good = _card(rule_a="score if count(late) >= 3 then 0 else 60", extra="\n  items t\n")
    report, _ = _verify(tmp_path / "good", good, items)
    assert _found(report) == []
    value, _, how = _rows(report, "monotonic")["fact late, every use"]
    assert value == "lowers final"
    assert how.startswith("proved from the form of the rules; by randomised search")
    bad = _card(rule_a="score if count(late) >= 3 then 60 else 0", extra="\n  items t\n")
    report, _ = _verify(tmp_path / "bad", bad, items)
    (finding,) = report.findings
    assert (finding.code, finding.span.line) == ("V201", 1)
    assert finding.message == "fact late, every use cannot be shown to only lower the final of 'c'"
    assert finding.notes[0].startswith("A: count(late) ")
    assert finding.notes[0].endswith("to 60")


def test_caps_and_floors_that_no_facts_reach(tmp_path: Path) -> None:
    """A bonus cap above what one period fact gives, a floor under a final that cannot fall,
    and a per-fact floor under the one fact a period may bring."""
    items = 'items t "加减分" {\n  bonus award 1\n  cap bonus 5\n}\n'
    card = _card(
        rule_a="deduct per award 2 floor 0", rule_b="score 40", extra="\n  items t\n  floor 30\n"
    )
    report, _ = _verify(tmp_path, card, items)
    assert sorted(_found(report)) == [
        ("V301", "f0.jx", 6, 32),
        ("V301", "f0.jx", 15, 9),
        ("V301", "f1.jx", 3, 3),
    ]
    messages = sorted(d.message for d in report.findings)
    assert messages == [
        "`cap bonus 5` of 't' is never reached: its bonus items give at most 1",
        "floor 30 of 'c' never applies: the final before it is at least 40",
        "the floor 0 of A is never reached: 'award' has at most one fact a period, worth 2",
    ]


def test_quotas_over_100_percent_and_an_unreachable_tier(tmp_path: Path) -> None:
    """60% from the top and 60% from the bottom overlap at n = 1; `b` is always inside `a`."""
    tiers = (
        "\n  rank by final desc\n  tiers round half_up {\n    a: rank <= quota(60%)\n"
        "    b: rank <= quota(20%)\n    z: rank > n - quota(60%)\n    m: otherwise\n  }\n"
    )
    report, _ = _verify(tmp_path, _card(extra=tiers))
    # every rank is in `a` or `z`, so `m` (otherwise) is never reached either
    assert _found(report) == [
        ("V401", "f0.jx", 15, 3),
        ("V402", "f0.jx", 17, 5),
        ("V402", "f0.jx", 19, 5),
    ]
    assert _message(report, "V401").message == (
        "the tier quotas of 'c' take more than n = 1 subjects: a 1, b 0, z 1"
    )
    assert _rows(report, "ranking")["ties"][0] == (
        "subjects equal in final share a rank (1, 1, 3): not total"
    )


def test_a_cycle_of_joint_liability(tmp_path: Path) -> None:
    """c passes to d and d to c: V501 (the checker's E401 stops such a ruleset too)."""
    other = _card().replace('scorecard c "测试"', 'scorecard d "另一"')
    joints = (
        'joint j "连带" into d {\n  link x: c fact late -> owner amount 1\n}\n\n'
        'joint k "连带" into c {\n  link y: d fact late -> owner amount 1\n}\n'
    )
    report, _ = _verify(tmp_path, _card(), other, joints, checked=False)
    assert ("V501", "f2.jx", 2, 3) in _found(report)
    assert _message(report, "V501").message == "joint liability flows in a cycle: c -> d -> c"


def test_a_lead_the_schema_does_not_guarantee(tmp_path: Path) -> None:
    """A link to the lead of A names a unit id the organisation may not have."""
    card = _card().replace('indicator A "甲" points 60 {', 'indicator A "甲" points 60 lead boss {')
    other = (
        _card()
        .replace('scorecard c "测试"', 'scorecard d "另一"')
        .replace("A", "P")
        .replace("B", "Q")
    )
    joint = 'joint j "连带" into d {\n  link x: c indicator A -> lead(A) ratio 50%\n}\n'
    report, _ = _verify(tmp_path, card, other, joint)
    assert _found(report) == [("V502", "f2.jx", 2, 28)]
    assert "unit 'boss', the lead of A" in _message(report, "V502").message


def test_verify_the_shipped_years() -> None:
    """2024, 2025 and 2026 pass; the findings are the three lead targets the schema cannot
    promise. 2026's person final reads the county bureau's or the department's final through a
    `match staff`: each deduction fact still only lowers it."""
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "verify", "rules/2024", "rules/2025", "rules/2026"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("warning[V502]") == 3
    assert "rules/2025/joint.jx:4:38: warning[V502]" in done.stderr
    assert "rules/2026/joint.jx:4:38: warning[V502]" in done.stderr
    assert done.stderr.rstrip().endswith("0 error(s), 3 warning(s)")
    lines = [" ".join(x.split()) for x in done.stdout.splitlines()]
    assert "final 60 .. 105 floor 60 at most" in lines
    assert "final 0 .. 103.2 floor 0 exact" in lines
    assert "most joint liability 3 per period sum of the caps of the joint blocks into it" in lines
    assert (
        "fact overdue_document, every use lowers final lowers proved from the form of the rules"
        in (lines)
    )


def test_the_codes_table_in_the_authoring_guide_is_complete() -> None:
    """docs/authoring.md lists every verify code with its severity and meaning."""
    from dsl.verify.model import CODES

    doc = (REPO_ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    rows = {
        cells[0]: (cells[1], cells[2])
        for line in doc.splitlines()
        if line.startswith("| V")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert rows == CODES


def test_a_construct_verify_does_not_know_is_not_analysed(tmp_path: Path) -> None:
    """A rule of a kind added to the language later shows as "not analysed", not a crash."""
    import dataclasses

    from dsl.syntax import nodes as n

    @dataclasses.dataclass(frozen=True)
    class FutureRule:
        span: n.Span = n.NOWHERE

    root = tmp_path / "2025"
    root.mkdir()
    (root / "base.jx").write_text(BASE, encoding="utf-8")
    (root / "card.jx").write_text(_card(), encoding="utf-8")
    loaded = load(root)
    module = next(m for m in loaded.modules if m.path.endswith("card.jx"))
    card = module.decls[0]
    assert isinstance(card, n.Scorecard)
    cat = card.categories[0]
    future = dataclasses.replace(cat.indicators[0], rule=FutureRule())  # type: ignore[arg-type]
    cat = dataclasses.replace(cat, indicators=(future, cat.indicators[1]))
    card = dataclasses.replace(card, categories=(cat,))
    loaded.modules[loaded.modules.index(module)] = dataclasses.replace(module, decls=(card,))
    report = verify(loaded)
    ranges = _rows(report, "ranges")
    assert ranges["A 甲"] == ("not analysed", "60 points", "not analysed")
    assert ranges["final"][0] == "no limit below .. no limit"
    assert _found(report) == []


def _x(sign: int) -> Callable[[n.Expr], Sign]:
    """Atoms: `x` moves with the input by `sign`, everything else does not move."""
    return lambda e: sign if isinstance(e, n.Name) and e.id == "x" else 0


def _num(v: str) -> n.Num:
    return n.Num(Decimal(v), v)


def _consts(e: n.Expr) -> Interval | None:
    return Interval.point(e.value) if isinstance(e, n.Num) else None


def test_a_choice_the_input_does_not_move_moves_as_its_branches() -> None:
    """`match k { a: x, b: 2 * x }`: k fixed per subject, both arms rise with x, so does the
    match; with an arm `-x` it moves both ways; a choice that reads x is not told apart."""
    x, k = n.Name("x"), n.Name("k")
    twice = n.Binary("*", _num("2"), x)
    same = n.Match(k, (n.MatchArm("a", x), n.MatchArm("b", twice)))
    assert signs.sign(same, _x(1), _consts) == 1
    assert signs.sign(same, _x(-1), _consts) == -1
    both = n.Match(k, (n.MatchArm("a", x), n.MatchArm("b", n.Unary("-", x))))
    assert signs.sign(both, _x(1), _consts) is None
    one_still = n.If(k, x, _num("0"))
    assert signs.sign(one_still, _x(-1), _consts) == -1
    reads_x = n.If(x, x, _num("0"))
    assert signs.sign(reads_x, _x(1), _consts) is None
