"""A year whose last quarters a forked process scores gives what one process gives: the same
results' bytes, the same error entries and missing values; a child that fails costs its
quarters scored here, and no child is left behind whatever ends the evaluation."""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Iterator
from decimal import Inexact, localcontext
from pathlib import Path
from typing import Any

import orjson
import pytest

from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.engine import evaluate as engine
from dsl.engine import quarters
from dsl.engine.evaluate import Evaluation, evaluate, run_period
from dsl.engine.period import Index, PeriodRun, index_periods
from dsl.engine.report import json_text, results_json
from dsl.facts import split
from dsl.facts.inputs import Inputs, load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import live
from dsl.syntax.errors import RuleRuntimeError
from dsl.syntax.nodes import Span
from tests.conftest import generator
from tests.dsl.helpers import EXAMPLES, RULES_2025, copy_rules, edit, run_cli

YEAR = Period(2025)
Q3, Q4 = Period(2025, 3), Period(2025, 4)
PROCESSES = split.processes  # as it is, before a test sets it


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated province: 3 counties, 60 persons, 6,000 facts (corrections among them)."""
    gen = generator()
    out = tmp_path_factory.mktemp("province")
    gen.write(out, *gen.generate(3, 60, 6000, 2025, 11))
    return out


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[dict[Period, Any]]:
    """What this process took of each child: its quarters' runs ({}: it failed)."""
    got: list[dict[Period, Any]] = []
    take = quarters.Standby._take

    def spied(self: quarters.Standby) -> dict[Period, Any]:
        got.append(take(self))
        return got[-1]

    monkeypatch.setattr(quarters.Standby, "_take", spied)
    return got


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A child stands by for any year (the facts file is read by one process); the children
    forked are listed."""
    monkeypatch.setattr(quarters, "MIN_SIZE", 0)
    monkeypatch.setattr(quarters, "MIN_FACTS", 0)
    monkeypatch.setattr(split, "processes", lambda: 2)
    monkeypatch.setattr(split, "MIN_SPLIT", 1 << 40)
    monkeypatch.delenv("JIXIAO_PROCESSES", raising=False)
    pids: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return pids


def _gone(pids: list[int]) -> bool:
    """True when every child was reaped (none left running or as a zombie)."""
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    return True


def _inputs(rules: Path, folder: Path) -> tuple[CompiledRuleset, Inputs]:
    compiled = compile_path(rules)
    return compiled, load_inputs(compiled, folder / "org.json", folder / "facts.jsonl")


def _year(compiled: CompiledRuleset, inputs: Inputs, facts: Path) -> Evaluation:
    with quarters.standby(compiled, YEAR, facts):
        return evaluate(compiled, inputs.org, inputs.facts, YEAR)


def _bytes(ev: Evaluation) -> str:
    return json_text(results_json(ev))


def test_the_results_are_the_same_bytes(
    province: Path,
    forks: list[int],
    taken: list[dict[Period, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv: list[str | Path] = ["score", RULES_2025, "--org", province / "org.json"]
    argv += ["--facts", province / "facts.jsonl", "--period", "2025"]
    code, two, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert len(forks) == 1 and _gone(forks)
    assert len(taken) == 1 and set(taken[0]) == {Q3, Q4}  # the child's quarters, not redone
    monkeypatch.setenv("JIXIAO_PROCESSES", "1")
    monkeypatch.setattr(split, "processes", PROCESSES)
    code, one, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert len(forks) == 1  # (the second run was in one process)
    assert two == one and len(orjson.loads(two)["results"]) > 60


@pytest.mark.parametrize("example", ["handworked", "random-2025"])
def test_the_examples_give_the_same_bytes(
    example: str, forks: list[int], taken: list[dict[Period, Any]]
) -> None:
    folder = EXAMPLES / example
    compiled, inputs = _inputs(RULES_2025, folder)
    two = _bytes(_year(compiled, inputs, folder / "facts.jsonl"))
    assert len(forks) == 1 and _gone(forks) and [set(t) for t in taken] == [{Q3, Q4}]
    assert two == _bytes(evaluate(compiled, inputs.org, inputs.facts, YEAR))


@pytest.fixture
def failing(tmp_path: Path, province: Path) -> Path:
    """rules/2025 with the persons' performance divided by their peer ratings' count (zero
    where a person has none in a quarter: a rule's error), and a province where one person has
    no ability rating in the third quarter (a missing value)."""
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    edit(rules / "person.jx", "/ attr(workload))", "/ attr(workload) / count(peer_rating))")
    folder = tmp_path / "province"
    folder.mkdir()
    (folder / "org.json").write_bytes((province / "org.json").read_bytes())
    lines = (province / "facts.jsonl").read_bytes().splitlines(keepends=True)
    ratings = [orjson.loads(x) for x in lines if b'"ability_rating"' in x]
    person = next(r["subject"] for r in ratings if r.get("period") == "2025Q3")
    kept = [
        x
        for x in lines
        if not (b'"ability_rating"' in x and orjson.loads(x)["subject"] == person)
        or orjson.loads(x).get("period") != "2025Q3"
    ]
    # someone rated by no peer in the fourth quarter: the division fails for them
    rated = [orjson.loads(x) for x in kept if b'"peer_rating"' in x]
    unrated = next(r["subject"] for r in rated if r.get("period") == "2025Q4")
    kept = [
        x
        for x in kept
        if not (b'"peer_rating"' in x and orjson.loads(x)["subject"] == unrated)
        or orjson.loads(x).get("period") != "2025Q4"
    ]
    (folder / "facts.jsonl").write_bytes(b"".join(kept))
    (folder / "who").write_text(f"{person} {unrated}")
    return folder


def test_error_entries_and_missing_values_are_those_of_one_process(
    failing: Path, forks: list[int], taken: list[dict[Period, Any]]
) -> None:
    compiled, inputs = _inputs(failing.parent / "rules", failing)
    person, unrated = (failing / "who").read_text().split()
    two = _year(compiled, inputs, failing / "facts.jsonl")
    assert len(forks) == 1 and _gone(forks) and [set(t) for t in taken] == [{Q3, Q4}]
    one = evaluate(compiled, inputs.org, inputs.facts, YEAR)
    assert _bytes(two) == _bytes(one)
    # The child's quarters, result by result, as one process scores them.
    alone = {q: _alone(compiled, inputs, q) for q in YEAR.quarters()}
    for q in (Q3, Q4):
        results, _, _ = taken[0][q]
        assert results == alone[q]
        for card, by in alone[q].items():
            for s, res in by.items():
                got = results[card][s].failure
                assert (str(got), type(got)) == (str(res.failure), type(res.failure))
    results = taken[0][Q3][0]["person"]
    assert "ability" in results[person].missing and results[person].final is not None
    failed = taken[0][Q4][0]["person"][unrated]
    assert failed.error is not None and "division by zero" in failed.error["message"]
    assert failed.failure is not None and failed.failure.subject == unrated
    # The year fails that person with its first quarter that failed, as one process does.
    year = {r.subject: r for r in two.results if r.scorecard == "person"}
    first = next(e for q in YEAR.quarters() if (e := alone[q]["person"][unrated].error))
    assert year[unrated].error == first
    with pytest.raises(RuleRuntimeError) as got:
        two.raise_failed()
    with pytest.raises(RuleRuntimeError) as want:
        one.raise_failed()
    assert str(got.value) == str(want.value) and got.value.facts == want.value.facts


def _alone(compiled: CompiledRuleset, inputs: Inputs, q: Period) -> dict[str, Any]:
    """A quarter's results scored on its own in this process."""
    run = PeriodRun(compiled, inputs.org, _index(inputs, q), q, (), None)
    with localcontext() as ctx:
        ctx.prec = 200
        ctx.traps[Inexact] = True
        run_period(run)
    return run.results


def _index(inputs: Inputs, q: Period) -> Index:
    return index_periods(live(inputs.facts), {YEAR, *YEAR.quarters()})[q]


def test_a_child_that_fails_costs_its_quarters_scored_here(
    province: Path,
    forks: list[int],
    taken: list[dict[Period, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_: Any) -> Any:
        raise RuntimeError("the child's facts")

    monkeypatch.setattr(quarters, "_read", broken)  # only the child reads the facts written
    compiled, inputs = _inputs(RULES_2025, province)
    scored: list[Period] = []

    def counted(run: PeriodRun) -> None:
        scored.append(run.period)
        run_period(run)

    monkeypatch.setattr(engine, "run_period", counted)
    two = _year(compiled, inputs, province / "facts.jsonl")
    assert len(forks) == 1 and _gone(forks) and taken == [{}]  # (it exited with 1)
    assert sorted(map(str, scored)) == ["2025", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert _bytes(two) == _bytes(evaluate(compiled, inputs.org, inputs.facts, YEAR))


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_no_child_is_left_behind_when_the_evaluation_stops(
    province: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch, stop: type[BaseException]
) -> None:
    compiled, inputs = _inputs(RULES_2025, province)
    score = engine.run_period

    def stopping(run: PeriodRun) -> None:
        if run.period == Period(2025, 2):  # here, while the child scores its quarters
            raise stop("stopped")
        score(run)

    monkeypatch.setattr(engine, "run_period", stopping)
    with pytest.raises(stop):
        _year(compiled, inputs, province / "facts.jsonl")
    assert len(forks) == 1 and _gone(forks)


def test_a_child_never_asked_is_ended(province: Path, forks: list[int]) -> None:
    compiled, inputs = _inputs(RULES_2025, province)
    with quarters.standby(compiled, YEAR, province / "facts.jsonl"):
        assert len(forks) == 1
        evaluate(compiled, inputs.org, inputs.facts, Period(2025, 1))  # a quarter: no child
    assert _gone(forks)


def test_one_process_where_a_fork_is_not_safe_or_not_asked(
    province: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled, inputs = _inputs(RULES_2025, province)
    facts = province / "facts.jsonl"
    with quarters.standby(compiled, Period(2025, 1), facts):  # a quarter asks for no other
        pass
    monkeypatch.setattr(split, "processes", PROCESSES)
    monkeypatch.setenv("JIXIAO_PROCESSES", "1")
    assert _year(compiled, inputs, facts).results
    monkeypatch.delenv("JIXIAO_PROCESSES")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)  # another thread running: no fork
    thread.start()
    try:
        assert split.processes() == 1
        assert _year(compiled, inputs, facts).results
    finally:
        stop.set()
        thread.join()
    assert forks == []


def test_a_rule_error_is_the_same_once_pickled() -> None:
    err = RuleRuntimeError("division by zero in 2025Q3", Span("p.jx", 3, 1, 3, 9), "s1", ("f1",))
    got = pickle.loads(pickle.dumps(err))
    assert (type(got), str(got), got.args) == (RuleRuntimeError, str(err), err.args)
    assert (got.span, got.subject, got.facts) == (err.span, "s1", ("f1",))


def test_the_columns_give_back_the_index(province: Path) -> None:
    _, inputs = _inputs(RULES_2025, province)
    index = _index(inputs, Q3)
    odd = next(f for by in index.values() for lst in by.values() for f in lst)
    odd.id = "an id\nover two lines"  # (the ids then go one by one)
    spool = split._spool()
    with spool:
        quarters._write(spool, [index, index])
        spool.seek(0)
        for _ in range(2):
            got = quarters._read(spool)
            assert list(got) == list(index)
            for s, by in index.items():
                assert list(got[s]) == list(by)
                for t, lst in by.items():
                    assert [repr(f) for f in got[s][t]] == [repr(f) for f in lst]


@pytest.fixture(autouse=True)
def _no_standby_left() -> Iterator[None]:
    yield
    assert quarters._standing is None
