"""Running the tests kept beside the rules: facts in, expected results out."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import Evaluation, evaluate
from dsl.engine.report import results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.syntax import nodes as n
from dsl.syntax.errors import DslError


@dataclass
class Failure:
    """One expectation that did not hold."""

    where: n.Span
    test: str
    message: str
    rule: str = ""

    def __str__(self) -> str:
        rule = f" (rule at {self.rule})" if self.rule else ""
        return f"{self.where}: test {self.test}: {self.message}{rule}"


def _norm(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float | str):
        try:
            return Decimal(str(v)).normalize()
        except InvalidOperation:
            return v
    if isinstance(v, list):
        return sorted(str(x) for x in v)
    return v


def _rule_location(compiled: CompiledRuleset, card: str, key: str) -> str:
    sc = compiled.scorecards.get(card)
    if sc is None:
        return ""
    for part in sc.parts:
        if part.id == key:
            return f"{part.span.path}:{part.span.line}"
        for ind in part.indicators:
            if ind.id == key:
                return f"{ind.span.path}:{ind.span.line}"
    return f"{sc.span.path}:{sc.span.line}"


def _expected_results(path: Path) -> list[dict[str, Any]] | str:
    """The results an expected file lists, or why they cannot be read (a test failure)."""
    try:
        expected = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"cannot read {path.name}: {e}"
    rows = expected.get("results") if isinstance(expected, dict) else None
    if not isinstance(rows, list):
        return f'{path.name}: expected an object with a list of "results"'
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("subject"), str):
            return f'{path.name}: results[{i}] is not an object with a "subject"'
    return rows


def _compare_file(test: n.TestDecl, file: n.Str, base: Path, ev: Evaluation) -> list[Failure]:
    expected = _expected_results(base / file.value)
    if isinstance(expected, str):
        return [Failure(file.span, test.id, expected)]
    got = {r["subject"]: r for r in results_json(ev)["results"]}
    fails: list[Failure] = []
    for exp in expected:
        subj = exp["subject"]
        card = str(exp.get("scorecard", ""))
        actual = got.get(subj)
        if actual is None:
            fails.append(Failure(file.span, test.id, f"{subj}: no result"))
            continue
        for key, value in exp.items():
            if key in ("subject", "scorecard"):
                continue
            if isinstance(value, dict):
                sub = actual.get(key)
                sub = sub if isinstance(sub, dict) else {}
                for k, v in value.items():
                    if _norm(sub.get(k)) != _norm(v):
                        fails.append(
                            Failure(
                                file.span,
                                test.id,
                                f"{subj}.{k}: expected {v}, got {sub.get(k)}",
                                _rule_location(ev.compiled, card, k),
                            )
                        )
            elif _norm(actual.get(key)) != _norm(value):
                fails.append(
                    Failure(
                        file.span,
                        test.id,
                        f"{subj}.{key}: expected {value}, got {actual.get(key)}",
                        _rule_location(ev.compiled, card, key),
                    )
                )
    return fails


def _check_expect(test: n.TestDecl, e: n.Expectation, ev: Evaluation) -> Failure | None:
    results = results_json(ev)["results"]
    rows = [r for r in results if r["subject"] == e.subject]
    if not rows:
        return Failure(e.span, test.id, f"{e.subject}: no result")
    row = rows[0]
    want: Any = e.value.value if isinstance(e.value, n.Num) else e.value.name
    if isinstance(e.value, n.Ref) and e.value.name == "missing":
        ok = e.field in (row.get("missing") or [])
        return (
            None
            if ok
            else Failure(
                e.span,
                test.id,
                f"{e.subject}.{e.field}: expected missing, it is not",
                _rule_location(ev.compiled, row["scorecard"], e.field),
            )
        )
    got = row.get(e.field)
    if got is None:
        for key in ("indicators", "categories", "components"):
            got = (row.get(key) or {}).get(e.field, got)
    if _norm(got) != _norm(want):
        return Failure(
            e.span,
            test.id,
            f"{e.subject}.{e.field}: expected {want}, got {got}",
            _rule_location(ev.compiled, row["scorecard"], e.field),
        )
    return None


def run_test(compiled: CompiledRuleset, test: n.TestDecl) -> list[Failure]:
    """Runs one test; returns its failures (an empty list when it passes)."""
    base = Path(test.span.path).parent
    if test.org is None or test.facts is None or test.period is None:
        return [Failure(test.span, test.id, "a test needs org, facts and period")]
    try:
        inputs = load_inputs(compiled, base / test.org.value, base / test.facts.value)
        ev = evaluate(compiled, inputs.org, inputs.facts, Period.parse(test.period))
    except (DslError, OSError, ValueError) as e:
        return [Failure(test.span, test.id, f"could not score: {e}")]
    fails: list[Failure] = []
    for f in test.expect_files:
        fails.extend(_compare_file(test, f, base, ev))
    for expectation in test.expects:
        fail = _check_expect(test, expectation, ev)
        if fail is not None:
            fails.append(fail)
    return fails


def run_tests(rules: Path, verbose: bool = False) -> int:
    """Runs every test of a ruleset; prints failures and a summary; 1 if any failed."""
    compiled = compile_path(rules)
    tests = sorted(compiled.program.tests.values(), key=lambda t: t.span)
    passed = failed = 0
    for test in tests:
        fails = run_test(compiled, test)
        if fails:
            failed += 1
            for f in fails:
                print(f, file=sys.stderr)
        else:
            passed += 1
            if verbose:
                print(f"ok   {test.id} ({test.span})")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
