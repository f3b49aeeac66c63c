"""The checks across facts certified by the reading's second process (`dsl.facts.certify`):
it vouches for a file only where the checks in this process find nothing, so a file read with
the checks deferred is refused, with the same words, wherever the one-process reading refuses
it, and accepted with the same facts where it is accepted."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cli import main
from dsl.compile.compiler import compile_path
from dsl.facts import certify, split
from dsl.facts.index import index_periods
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import Fact, InputError, live, read_org
from dsl.facts.typed import Keep
from dsl.facts.validate import FactValidator
from tests.conftest import REPO_ROOT, one_process, split_every_file
from tests.dsl.facts.conftest import index_shape

RULES = REPO_ROOT / "rules" / "2025"
Q1, Q2, Q3, YEAR = Period(2025, 1), Period(2025, 2), Period(2025, 3), Period(2025)


@pytest.fixture
def words(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every file splits; each certificate the children gave, in order."""
    split_every_file(monkeypatch)
    said: list[bool] = []
    clean = split.Certificate.clean

    def spied(self: split.Certificate) -> bool:
        said.append(clean(self))
        return said[-1]

    monkeypatch.setattr(split.Certificate, "clean", spied)
    return said


def _records(province: Path) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in (province / "facts.jsonl").read_bytes().splitlines()]


def _first(records: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> int:
    return next(i for i, r in enumerate(records) if test(r))


def _single(r: dict[str, Any]) -> bool:
    return r["type"] == "revenue_completion" and "supersedes" not in r


def _plain(r: dict[str, Any]) -> bool:
    return r["type"] == "work_item" and "supersedes" not in r


def _other_subject(records: list[dict[str, Any]], r: dict[str, Any]) -> str:
    return str(
        next(
            x["subject"] for x in records if x["type"] == r["type"] and x["subject"] != r["subject"]
        )
    )


def _dup_late(rs: list[dict[str, Any]]) -> None:
    rs[-2]["id"] = rs[-40]["id"]  # both in the second process's part


def _dup_across(rs: list[dict[str, Any]]) -> None:
    rs[-2]["id"] = rs[5]["id"]


def _names_nothing(rs: list[dict[str, Any]]) -> None:
    rs.append({**rs[_first(rs, _plain)], "id": "fix-1", "supersedes": "no-such-fact"})


def _itself(rs: list[dict[str, Any]]) -> None:
    rs.append({**rs[_first(rs, _plain)], "id": "fix-1", "supersedes": "fix-1"})


def _other_subject_fix(rs: list[dict[str, Any]]) -> None:
    old = rs[_first(rs, _plain)]
    rs.append({**old, "id": "fix-1", "subject": _other_subject(rs, old), "supersedes": old["id"]})


def _named_before_other_subject(rs: list[dict[str, Any]]) -> None:
    """First in the file, a correction of a fact further on of another subject."""
    old = rs[-1]
    rs.insert(
        0, {**old, "id": "fix-0", "subject": _other_subject(rs, old), "supersedes": old["id"]}
    )


def _other_type_fix(rs: list[dict[str, Any]]) -> None:
    old = rs[_first(rs, _plain)]
    other = rs[_first(rs, lambda r: r["type"] != "work_item" and "supersedes" not in r)]
    rs.append({**other, "id": "fix-1", "supersedes": old["id"]})


def _cycle(rs: list[dict[str, Any]]) -> None:
    old = rs[_first(rs, _plain)]
    rs.append({**old, "id": "fix-1", "supersedes": "fix-2"})
    rs.append({**old, "id": "fix-2", "supersedes": "fix-1"})


def _second_live_value(rs: list[dict[str, Any]]) -> None:
    rs.append({**rs[_first(rs, _single)], "id": "again-1"})


PROBLEMS: dict[str, Callable[[list[dict[str, Any]]], None]] = {
    "duplicate-in-the-second-part": _dup_late,
    "duplicate-across-the-parts": _dup_across,
    "correction-of-nothing": _names_nothing,
    "correction-of-itself": _itself,
    "correction-of-another-subject": _other_subject_fix,
    "correction-of-another-type": _other_type_fix,
    "correction-further-on-of-another-subject": _named_before_other_subject,
    "corrections-in-a-cycle": _cycle,
    "second-live-single-value": _second_live_value,
}


def _chain(rs: list[dict[str, Any]]) -> None:
    """A correction corrected in turn, and a single value corrected: no problem."""
    old = rs[_first(rs, _plain)]
    rs.append({**old, "id": "fix-1", "supersedes": old["id"]})
    rs.append({**old, "id": "fix-2", "supersedes": "fix-1"})
    value = rs[_first(rs, _single)]
    rs.append({**value, "id": "fix-3", "supersedes": value["id"]})


def _named_before(rs: list[dict[str, Any]]) -> None:
    """A correction, first in the file, of a fact further on (the second pass finds it)."""
    old = rs[-1]
    rs.insert(0, {**old, "id": "fix-0", "supersedes": old["id"]})


def _write(province: Path, tmp_path: Path, edit: Callable[[list[dict[str, Any]]], None]) -> Path:
    records = _records(province)
    edit(records)
    path = tmp_path / "facts.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def _clean(province: Path, path: Path) -> bool:
    v = FactValidator(compile_path(RULES).schema, read_org(province / "org.json"))
    return certify.clean(path, v.types, v.single, v.period_of, 40_000)


def _outcome(
    province: Path, facts: Path, defer: bool, periods: set[Period] | None = None
) -> str | list[str]:
    """The problems' message, or the facts read (as reprs); with `periods`, the facts kept
    for them."""
    try:
        org = province / "org.json"
        got = load_inputs(compile_path(RULES), org, facts, defer=defer, periods=periods)
        got.confirm()
    except InputError as e:
        return str(e)
    return [repr(f) for f in got.facts]


@pytest.mark.parametrize("edit", list(PROBLEMS))
def test_a_problem_across_facts_is_never_certified(
    province: Path, tmp_path: Path, edit: str
) -> None:
    assert not _clean(province, _write(province, tmp_path, PROBLEMS[edit]))


@pytest.mark.parametrize("edit", [None, _chain, _named_before])
def test_a_file_without_problems_is_certified(
    province: Path, tmp_path: Path, edit: Callable[[list[dict[str, Any]]], None] | None
) -> None:
    path = province / "facts.jsonl" if edit is None else _write(province, tmp_path, edit)
    assert _clean(province, path)


@pytest.mark.parametrize("periods", [None, {Q1}], ids=["every-fact", "facts-kept-for-Q1"])
@pytest.mark.parametrize("edit", list(PROBLEMS))
def test_deferred_checks_refuse_with_the_same_words(
    province: Path,
    tmp_path: Path,
    edit: str,
    periods: set[Period] | None,
    words: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Also where only the facts of Q1 are kept: a problem among the others is refused."""
    path = _write(province, tmp_path, PROBLEMS[edit])
    deferred = _outcome(province, path, defer=True, periods=periods)
    assert words == [False]  # the child was asked, and did not vouch for the file
    assert isinstance(deferred, str) and "invalid facts" in deferred and "facts.jsonl:" in deferred
    one_process(monkeypatch)
    assert _outcome(province, path, defer=False) == deferred


@pytest.mark.parametrize("edit", [None, _chain, _named_before])
def test_deferred_checks_accept_the_same_facts(
    province: Path,
    tmp_path: Path,
    edit: Callable[[list[dict[str, Any]]], None] | None,
    words: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = province / "facts.jsonl" if edit is None else _write(province, tmp_path, edit)
    deferred = _outcome(province, path, defer=True)
    assert words == [True]
    one_process(monkeypatch)
    one = _outcome(province, path, defer=False)
    assert isinstance(one, list) and len(one) >= 6000 and deferred == one


def test_where_the_child_is_unsure_the_checks_run_here(
    province: Path, words: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every id hashed alike: the child cannot tell the ids apart and does not vouch; the
    checks here find nothing, and the facts stand."""
    monkeypatch.setattr(certify, "hash", lambda _: 7, raising=False)
    checked: list[int] = []
    validate_read = FactValidator.validate_read

    def spied(self: FactValidator, facts: Any, *a: Any, **k: Any) -> Any:
        checked.append(len(facts))
        return validate_read(self, facts, *a, **k)

    monkeypatch.setattr(FactValidator, "validate_read", spied)
    got = _outcome(province, province / "facts.jsonl", defer=True)
    assert words == [False] and checked == [6000]
    assert isinstance(got, list) and len(got) == 6000


def test_the_score_command_refuses_a_file_as_one_process_does(
    province: Path,
    tmp_path: Path,
    words: list[bool],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _write(province, tmp_path, _dup_across)
    argv = ["score", str(RULES), "--org", str(province / "org.json"), "--facts", str(path)]
    assert main([*argv, "--period", "2025Q1"]) == 1
    two = capsys.readouterr()
    assert words == [False] and two.out == "" and "duplicate id" in two.err
    one_process(monkeypatch)
    assert main([*argv, "--period", "2025Q1"]) == 1
    assert capsys.readouterr() == two


def test_a_certificate_never_asked_for_leaves_no_child(
    province: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forks = split_every_file(monkeypatch)
    got = load_inputs(
        compile_path(RULES), province / "org.json", province / "facts.jsonl", defer=True
    )
    assert got.pending is not None and len(forks) == 1
    del got
    gc.collect()
    with pytest.raises(ChildProcessError):  # reaped: neither running nor a zombie
        os.waitpid(forks[0], os.WNOHANG)


def test_a_file_changed_while_read_is_not_vouched_for(
    province: Path, words: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's signature when the child looks again is not the one when the reading began
    (as if written meanwhile): the child does not vouch, and the checks run here."""
    calls: list[int] = []

    def signature(_: Path) -> tuple[int, ...]:
        calls.append(1)  # (in the child, its own copy of the list)
        return (len(calls),)

    monkeypatch.setattr(split, "signature", signature)
    got = _outcome(province, province / "facts.jsonl", defer=True)
    assert calls == [1]  # this process took it once, before the child was forked
    assert words == [False] and isinstance(got, list) and len(got) == 6000


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.binary(min_size=0, max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=40
    ),
    ending=st.booleans(),
    size=st.integers(min_value=1, max_value=50),
)
def test_the_pieces_from_the_end_are_the_file_in_whole_lines(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], ending: bool, size: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if ending and lines else b"")
    path = tmp_path_factory.mktemp("pieces") / "f"
    path.write_bytes(data)
    pieces = list(certify.chunks_from_end(path, size))
    assert b"".join(reversed(pieces)) == data
    starts = {0} | {i + 1 for i, c in enumerate(data) if c == 10}
    at = len(data)
    for piece in pieces:
        at -= len(piece)
        assert piece and at in starts  # each piece begins a line, and none is empty
        assert at + len(piece) == len(data) or piece.endswith(b"\n")


# What a period's evaluation reads: with the checks deferred, only those facts are kept.


def test_what_the_periods_read() -> None:
    assert Keep.of([Q2]).months == {(2025, 4), (2025, 5), (2025, 6)}
    assert Keep.of([Q1, Q3]).months == {(2025, m) for m in (1, 2, 3, 7, 8, 9)}
    assert Keep.of([YEAR]).months == {(2025, m) for m in range(1, 13)}
    assert Keep.of([Q1, Period(2026, 4)]).periods == {Q1, Period(2026, 4)}


def _read_by_periods(f: Fact, periods: set[Period]) -> bool:
    """Worked out apart from `Keep`: a correction; a fact dated in a quarter asked or in a
    year asked; a fact of a period asked."""
    if f.supersedes is not None:
        return True
    if f.date is not None:
        quarter = Period(f.date.year, (f.date.month - 1) // 3 + 1)
        return quarter in periods or Period(f.date.year) in periods
    return f.period in periods


@pytest.mark.parametrize("periods", [{Q1}, {Q1, Q2, Q3}, {YEAR, Q1, Q2, Q3, Period(2025, 4)}])
def test_the_facts_kept_are_those_the_periods_read(
    province: Path, words: list[bool], periods: set[Period], monkeypatch: pytest.MonkeyPatch
) -> None:
    rules, org, path = compile_path(RULES), province / "org.json", province / "facts.jsonl"
    got = load_inputs(rules, org, path, defer=True, periods=periods)
    got.confirm()
    assert words == [True]
    one_process(monkeypatch)
    every = load_inputs(rules, org, path).facts
    kept = [f for f in every if _read_by_periods(f, periods)]
    assert 0 < len(kept) < len(every) or periods == {YEAR, Q1, Q2, Q3, Period(2025, 4)}
    if periods == {Q1}:  # corrections are kept wherever they are (what they name is dead)
        assert any(f.supersedes is not None and f.date and f.date.month > 3 for f in kept)
    assert [repr(f) for f in got.facts] == [repr(f) for f in kept]
    # Grouped as they were read: the live facts of every fact read, indexed at once.
    assert got.indexed is not None
    indexed = got.indexed.finish()
    assert indexed is not None
    want = index_periods(live(every), periods)
    assert {p: index_shape(x) for p, x in indexed.items()} == {
        p: index_shape(x) for p, x in want.items()
    }


def test_a_child_that_fails_leaves_every_fact_read_here(
    province: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forks = split_every_file(monkeypatch)

    def broken(_: Any) -> Any:
        raise RuntimeError("the child's columns")

    monkeypatch.setattr(split, "_COLUMNS", (broken,))  # only the child turns facts into columns
    rules, org, path = compile_path(RULES), province / "org.json", province / "facts.jsonl"
    got = load_inputs(rules, org, path, defer=True, periods={Q1})
    assert got.pending is None and len(forks) == 1  # no word to come: checked here, whole
    assert got.indexed is None  # (what was grouped meanwhile is not whole)
    assert len(got.facts) == 6000 and [f.line for f in got.facts] == list(range(1, 6001))


def test_a_cap_per_year_reads_the_quarters_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Joint liability capped at 3 a year: hy-policy receives 20% of each provincial K4
    issue, 0.6 each; four in Q1 give 2.4, so Q2's four give 3 − 2.4 = 0.6. Scoring Q2 with
    the facts kept for it keeps Q1's."""
    from tests.dsl.helpers import HANDWORKED, copy_rules, edit, run_cli, write_facts

    rules = copy_rules(RULES, tmp_path / "rules")
    edit(rules / "joint.jx", "cap 3 per period", "cap 3 per year")
    org = tmp_path / "org.json"
    org.write_text((HANDWORKED / "org.json").read_text("utf-8"), "utf-8")
    facts = [
        {"id": f"c{i}", "type": "inspection_issue", "subject": "nanyue", "date": day,
         "data": {"level": "provincial"}}
        for i, day in enumerate(["2025-02-03"] * 4 + ["2025-05-03"] * 4)
    ]  # fmt: skip
    path = write_facts(tmp_path / "facts.jsonl", facts)
    argv = ("score", rules, "--org", org, "--facts", path, "--period", "2025Q2")
    split_every_file(monkeypatch)
    code, two, err = run_cli(capsys, *argv)
    assert code == 0, err
    joint = next(r["joint"] for r in orjson.loads(two)["results"] if r["subject"] == "hy-policy")
    assert joint == "0.60"
    one_process(monkeypatch)
    assert run_cli(capsys, *argv)[1] == two
