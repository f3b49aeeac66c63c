"""A facts file read by two processes gives what one process gives: the same facts, numbered
the same, the same results' bytes, and the same problems worded the same, wherever they are."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.cli import main
from dsl.compile.compiler import compile_path
from dsl.facts import split
from dsl.facts.inputs import load_inputs
from dsl.facts.records import InputError, read_org
from dsl.facts.typed import TypedReader
from dsl.facts.validate import FactValidator
from tests.conftest import REPO_ROOT, one_process, split_every_file

RULES = REPO_ROOT / "rules" / "2025"


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[bool | None]:
    """What each child's writing came to: True (its facts taken), None (it declined), False
    (not whole: its part read again here)."""
    got: list[bool | None] = []
    receive = split._received

    def spied(*args: Any) -> bool | None:
        got.append(receive(*args))
        return got[-1]

    monkeypatch.setattr(split, "_received", spied)
    return got


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch, received: list[bool | None]) -> list[int]:
    """Every file splits (a few lines a chunk); the children forked are listed."""
    return split_every_file(monkeypatch)


def _lines(province: Path) -> list[bytes]:
    return (province / "facts.jsonl").read_bytes().splitlines(keepends=True)


def _reader(province: Path) -> TypedReader:
    return TypedReader(FactValidator(compile_path(RULES).schema, read_org(province / "org.json")))


def _gone(pids: list[int]) -> bool:
    """True when every child was reaped (none left running or as a zombie)."""
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    return True


@pytest.mark.parametrize("share", [0.05, 0.5, 0.58, 0.97])
def test_the_facts_of_two_parts_are_the_facts_of_the_file(
    province: Path, forks: list[int], received: list[bool | None], share: float
) -> None:
    path = province / "facts.jsonl"
    whole = _reader(province).read(path)
    assert whole is not None and len(whole) == len(_lines(province))
    got = split.read_facts(_reader(province), path, share)
    assert len(forks) == 1 and _gone(forks)
    assert received == [True]  # the child's facts, not its part read again here
    assert got is not None
    assert [repr(f) for f in got] == [repr(f) for f in whole]
    assert [f.line for f in got] == list(range(1, len(whole) + 1))


def test_the_cut_is_at_the_beginning_of_a_line(province: Path) -> None:
    path = province / "facts.jsonl"
    data = path.read_bytes()
    for near in (1, 100, len(data) // 2, len(data) - 5):
        cut = split.split_point(path, near)
        assert cut == 0 or (cut >= near and data[cut - 1 : cut] == b"\n")
    assert split.split_point(path, len(data) - 1) == 0  # no line begins after it: no cut
    assert split.split_point(path, 0) == 0


def _score(province: Path, facts: Path, period: str, capsys: pytest.CaptureFixture[str]) -> str:
    org = str(province / "org.json")
    code = main(["score", str(RULES), "--org", org, "--facts", str(facts), "--period", period])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


@pytest.mark.parametrize("period", ["2025Q1", "2025"])
def test_the_results_are_the_same_bytes(
    province: Path,
    period: str,
    forks: list[int],
    received: list[bool | None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    two = _score(province, province / "facts.jsonl", period, capsys)
    assert len(forks) == 1 and _gone(forks) and received == [True]
    one_process(monkeypatch)
    one = _score(province, province / "facts.jsonl", period, capsys)
    assert len(forks) == 1
    assert two == one and len(orjson.loads(two)["results"]) > 60


def _outcome(province: Path, facts: Path) -> str | list[str]:
    """The problems' message, or the facts read (as reprs)."""
    try:
        got = load_inputs(compile_path(RULES), province / "org.json", facts)
    except InputError as e:
        return str(e)
    return [repr(f) for f in got.facts]


def _bad_line(line: bytes, **change: Any) -> bytes:
    return orjson.dumps({**orjson.loads(line), **change}) + b"\n"


# Each: what is done to the lines of the file (a problem in either part, or across them).
EDITS: dict[str, Callable[[list[bytes]], object]] = {
    "unknown-subject-late": lambda ls: ls.__setitem__(-3, _bad_line(ls[-3], subject="nobody")),
    "unknown-subject-early": lambda ls: ls.__setitem__(2, _bad_line(ls[2], subject="nobody")),
    "bad-date-in-both": lambda ls: (
        ls.__setitem__(10, _bad_line(ls[10], date="2025-13-01")),
        ls.__setitem__(-10, _bad_line(ls[-10], date="2025-02-30")),
    ),
    "duplicate-across": lambda ls: ls.__setitem__(
        -2, _bad_line(ls[-2], id=orjson.loads(ls[5])["id"])
    ),
    "correction-of-nothing-late": lambda ls: ls.__setitem__(
        -4, _bad_line(ls[-4], supersedes="no-such-fact")
    ),
    "blank-line-late": lambda ls: ls.insert(len(ls) - 7, b"\n"),
    "not-json-late": lambda ls: ls.__setitem__(-5, b'{"id": "x",\n'),
}


WHERE = {
    "unknown-subject-late": [-3],
    "bad-date-in-both": [-10],
    "duplicate-across": [-2],
    "correction-of-nothing-late": [-4],
    "not-json-late": [-5],
}


# What became of the child's part: declined (None: a line of it needs the detailed checks),
# taken (True: the problem is across facts), or nothing (this process's part needed them first,
# and the child was stopped).
CHILD: dict[str, list[bool | None]] = {
    "unknown-subject-late": [None],
    "unknown-subject-early": [],
    "bad-date-in-both": [],
    "duplicate-across": [True],
    "correction-of-nothing-late": [True],
    "blank-line-late": [None],
    "not-json-late": [None],
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_problems_are_found_and_worded_as_by_one_process(
    province: Path,
    edit: str,
    tmp_path: Path,
    forks: list[int],
    received: list[bool | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = _lines(province)
    EDITS[edit](lines)
    facts = tmp_path / "facts.jsonl"
    facts.write_bytes(b"".join(lines))
    two = _outcome(province, facts)
    assert len(forks) == 1 and _gone(forks)
    assert received == CHILD[edit]
    if edit.startswith("blank-line"):  # no problem: the line-by-line path skips it
        assert isinstance(two, list) and f"line={len(lines)})" in two[-1]
    else:
        assert isinstance(two, str) and "invalid facts" in two
        for index in WHERE.get(edit, ()):  # the line, counted from the end, of each problem
            assert f"facts.jsonl:{len(lines) + 1 + index}: " in two
    one_process(monkeypatch)
    assert split.processes() == 1
    assert _outcome(province, facts) == two
    assert len(forks) == 1  # (the second run was in one process)


def test_a_correction_in_the_second_part_may_name_a_fact_of_the_first(
    province: Path, tmp_path: Path, forks: list[int], received: list[bool | None]
) -> None:
    lines = _lines(province)
    old = orjson.loads(lines[3])
    lines.append(orjson.dumps({**old, "id": "fix-1", "supersedes": old["id"]}) + b"\n")
    facts = tmp_path / "facts.jsonl"
    facts.write_bytes(b"".join(lines))
    got = load_inputs(compile_path(RULES), province / "org.json", facts)
    assert len(forks) == 1 and _gone(forks) and received == [True]
    assert got.facts[-1].id == "fix-1" and got.facts[-1].line == len(lines)
    assert got.facts[3].id == old["id"]


def test_a_child_that_fails_costs_its_part_read_here(
    province: Path, forks: list[int], received: list[bool | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: Any) -> Any:
        raise RuntimeError("the child's columns")

    monkeypatch.setattr(split, "_COLUMNS", (broken,))  # only the child turns facts into columns
    path = province / "facts.jsonl"
    got = split.read_facts(_reader(province), path)
    assert len(forks) == 1 and _gone(forks) and received == []  # (it exited with 1)
    whole = _reader(province).read(path)
    assert got is not None and whole is not None
    assert [repr(f) for f in got] == [repr(f) for f in whole]


def test_no_child_is_left_when_reading_stops(
    province: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    read = TypedReader.read

    def interrupted(self: TypedReader, path: Path, start: int = 0, *a: Any, **k: Any) -> Any:
        if start == 0:  # this process's part (the child reads from the cut)
            raise KeyboardInterrupt
        return read(self, path, start, *a, **k)

    monkeypatch.setattr(TypedReader, "read", interrupted)
    with pytest.raises(KeyboardInterrupt):
        split.read_facts(_reader(province), province / "facts.jsonl")
    assert len(forks) == 1 and _gone(forks)


def test_one_process_where_two_do_not_pay_or_are_not_safe(
    province: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JIXIAO_PROCESSES", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0}, raising=False)
    assert split.processes() == 1  # one CPU
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1}, raising=False)
    monkeypatch.setenv("JIXIAO_PROCESSES", "1")
    assert split.processes() == 1
    monkeypatch.delenv("JIXIAO_PROCESSES")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert split.processes() == 1  # a thread running
    finally:
        stop.set()
        other.join()
    monkeypatch.delattr(os, "fork")
    assert split.processes() == 1  # no fork (not on Linux or macOS)


def test_a_small_file_is_read_here(province: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "processes", lambda: 2)

    def refused() -> Iterator[int]:
        raise AssertionError("forked for a small file")

    monkeypatch.setattr(os, "fork", refused)
    assert (province / "facts.jsonl").stat().st_size < split.MIN_SPLIT
    got = split.read_facts(_reader(province), province / "facts.jsonl")
    assert got is not None and len(got) == len(_lines(province))


def test_no_process_to_be_had_reads_in_one(
    province: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    path = province / "facts.jsonl"
    got = split.read_facts(_reader(province), path)
    whole = _reader(province).read(path)
    assert got is not None and whole is not None
    assert [repr(f) for f in got] == [repr(f) for f in whole]


def test_without_memfd_the_child_writes_a_temporary_file(
    province: Path, forks: list[int], received: list[bool | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_: Any) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "memfd_create", refused, raising=False)
    path = province / "facts.jsonl"
    got = split.read_facts(_reader(province), path)
    assert len(forks) == 1 and _gone(forks) and received == [True]
    whole = _reader(province).read(path)
    assert got is not None and whole is not None
    assert [repr(f) for f in got] == [repr(f) for f in whole]


KILLED = """
import os, sys, time
from pathlib import Path
from dsl.facts import split
from dsl.facts.typed import TypedReader
from tests.dsl.facts.test_split import _reader

split.MIN_SPLIT, split.processes = 0, lambda: 2

def read(self, path, start=0, *args, **kwargs):
    if start:  # the child
        print(os.getpid(), flush=True)
    time.sleep(60)

TypedReader.read = read
split.read_facts(_reader(Path(sys.argv[1])), Path(sys.argv[1]) / "facts.jsonl")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_ends_with_a_parent_killed_outright(province: Path) -> None:
    """SIGKILL runs no `finally`: the child is ended by the system (`end_with_parent`)."""
    argv = [sys.executable, "-c", KILLED, str(province)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=REPO_ROOT) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _running(child)
        parent.kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(child):
        time.sleep(0.05)
    assert not _running(child)


def _running(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("edit", ["duplicate-across", "unknown-subject-late"])
def test_skipping_the_invalid_facts_skips_the_same(
    province: Path, edit: str, tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _lines(province)
    EDITS[edit](lines)
    facts = tmp_path / "facts.jsonl"
    facts.write_bytes(b"".join(lines))

    def skipping() -> tuple[list[str], list[str]]:
        got = load_inputs(compile_path(RULES), province / "org.json", facts, skip_invalid=True)
        return [repr(f) for f in got.facts], [str(p) for p in got.skipped]

    two = skipping()
    assert len(forks) == 1 and _gone(forks)
    one_process(monkeypatch)
    assert skipping() == two
    assert len(two[1]) == 1 and len(lines) - 2 <= len(two[0]) < len(lines)
