"""A year's last quarters scored by a forked process while this one scores the rest.

A year's evaluation whose scorecards have an `annual` over the quarters scores every scorecard
in each of the four quarters, then reads their results (`annual.score_annual`,
`annual.blend_annual`); each quarter is scored from its own facts alone (unless a cap runs over
the year, `CompiledRuleset.per_year`: a quarter then reads the ones before it, and no child is
asked). `standby` forks a child early, before the facts are read, while this process holds
little more than the ruleset; the child waits. Once the evaluation has indexed the facts,
`scored_away` writes the facts of the child's quarters (`CHILD_QUARTERS`) to an anonymous file,
each quarter in its index's order (each group's subject and type once, the other fields as
columns, a few thousand facts at a time) and wakes the child, which reads them, rebuilds the
quarter's index, scores the quarter as this process would (`run_period`) and writes the run's
results to a second anonymous file, a quarter at a time. Meanwhile this process scores the
year's own scorecards and the other quarters; when the year first asks for one of the child's
quarters, it waits for the child and takes its results.

Why so: a child forked once the facts are read shares their pages, and every page either
process then writes (a reference count, as any read of an object does; a quarter's facts lie
on nearly every page of a file in date disorder) is copied, so the two processes held 502 MB
of proportional memory against 299 MB for one. A child forked early shares only the ruleset
and reads only what it is sent.

The same rules as the facts' reading in two processes (`dsl.facts.split.processes`): one
process where a fork is not possible or not safe (threads running, as in the service), on one
CPU, under `JIXIAO_PROCESSES=1`, or where the child's quarters hold too few facts to pay. A
child that fails (a rule's error that one process raises too, memory) or is killed costs its
quarters scored here, from the facts this process kept, exactly as with one process. A child
is never left behind: it is killed and reaped when the evaluation (or the standby) ends,
however it ends (an error, Ctrl-C), and it dies with this process (`PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import decimal
import gc
import os
import pickle
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from itertools import chain, islice, repeat
from pathlib import Path
from typing import IO, Any, NoReturn

from msgspec.structs import astuple

from dsl.compile.ir import CompiledRuleset
from dsl.engine.period import Index, PeriodRun
from dsl.engine.results import SubjectResult
from dsl.facts import split
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org

CHILD_QUARTERS = (3, 4)
# Facts in the child's quarters below which one process is as fast: writing a fact here costs
# about what scoring it does, and the child's start and results cost a few milliseconds.
MIN_FACTS = 100_000
MIN_SIZE = split.MIN_SPLIT  # bytes of a facts file below which no child stands by
# Facts a pickle of columns: their columns are built while the facts are in the caches.
CHUNK = 1 << 12
# The fields as `_write` and `_read` take them.
assert Fact.__struct_fields__ == (
    "id", "type", "subject", "date", "period", "data", "evidence", "supersedes", "line",
)  # fmt: skip
_DONE = "done"  # the child's last word when it scored all its quarters

# What the year reads of a quarter's run, as the child sends it: results, pools, joint amounts.
Sent = tuple[dict[str, dict[str, SubjectResult]], list[SubjectResult], dict[str, Any]]


class Standby:
    """A child forked early, waiting to score a year's last quarters (`standby`)."""

    def __init__(self, compiled: CompiledRuleset, pid: int, go: int, spools: Spools) -> None:
        self.compiled = compiled  # the ruleset the child has (its copy, as forked)
        self.pid = pid
        self.go = go  # the pipe's end this process writes to: one byte says the facts are in
        self.facts, self.results = spools
        self.quarters: tuple[Period, ...] = ()  # the child's, once asked
        self.reaped = False
        self.got: dict[Period, Sent] | None = None

    def ask(self, quarters: tuple[Period, ...], job: Any, indexes: list[Index]) -> bool:
        """Writes the quarters' facts and what else the child needs, and wakes it: True when
        it was woken (False: nothing was asked; the quarters are scored here)."""
        try:
            self.facts.seek(0)
            pickle.dump(job, self.facts, protocol=pickle.HIGHEST_PROTOCOL)
            _write(self.facts, indexes)
            self.facts.flush()
            os.write(self.go, b"g")
        except Exception:  # no room for the file, the child gone: one process
            return False
        self.quarters = quarters
        return True

    def run(self, compiled: CompiledRuleset, org: Org, period: Period) -> PeriodRun | None:
        """The child's run of a quarter, waited for; None when the quarter is not the child's
        or the child failed (this process then scores it)."""
        if period not in self.quarters:
            return None
        if self.got is None:
            self.got = self._take()
        sent = self.got.get(period)
        if sent is None:
            return None
        return ScoredAway(compiled, org, period, sent)

    def _take(self) -> dict[Period, Sent]:
        _, status = os.waitpid(self.pid, 0)
        self.reaped = True
        if os.waitstatus_to_exitcode(status) != 0:
            return {}
        try:
            self.results.seek(0)
            unpickler = pickle.Unpickler(self.results)
            got = {q: unpickler.load() for q in self.quarters}
            return got if unpickler.load() == _DONE else {}
        except Exception:  # cut short
            return {}

    def end(self) -> None:
        """Kills and reaps the child if it was not waited for; closes the files and pipe."""
        if self.go < 0:  # ended already
            return
        if not self.reaped:
            split._end(self.pid)
            self.reaped = True
        os.close(self.go)
        self.go = -1
        self.facts.close()
        self.results.close()


Spools = tuple[IO[bytes], IO[bytes]]


class ScoredAway(PeriodRun):
    """A quarter scored by the child: what the year reads of it (its results), nothing to
    score here."""

    def __init__(self, compiled: CompiledRuleset, org: Org, period: Period, sent: Sent) -> None:
        # (No `PeriodRun.__init__`: its populations were the child's to find.)
        self.compiled, self.org, self.period = compiled, org, period
        self.cards, self.index, self.traced = None, {}, ()
        self.results, self.pools, self.joint_given = sent
        self.joint_blocks, self.ctxs, self._rank_cache = {}, {}, {}
        self.quarter_run = None
        self.pops = {}


_standing: Standby | None = None  # the child waiting, if one is


@contextmanager
def standby(compiled: CompiledRuleset, period: Period, facts: Path) -> Iterator[None]:
    """Forks a child now, while this process holds little more than the ruleset, to score
    the last quarters of `period` when an evaluation of it asks (`scored_away`), where that
    may pay and is safe; it is killed and reaped when the block ends, however it ends."""
    global _standing
    child = None
    if _worth(compiled, period, None) and _size(facts) >= MIN_SIZE and split.processes() > 1:
        child = _fork(compiled)
    _standing = child
    try:
        yield
    finally:
        _standing = None
        if child is not None:
            child.end()


def _worth(compiled: CompiledRuleset, period: Period, cards: frozenset[str] | None) -> bool:
    """Whether a year's evaluation asks for its quarters, each scored from its facts alone."""
    if period.kind != "year" or compiled.per_year:
        return False
    scored = compiled.scorecards.items()
    return any(c.annual is not None for k, c in scored if cards is None or k in cards)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _fork(compiled: CompiledRuleset) -> Standby | None:
    try:
        spools = split._spool(), split._spool()
    except OSError:
        return None
    wake, go = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # no process to be had: one process
        for fd in (wake, go):
            os.close(fd)
        for spool in spools:
            spool.close()
        return None
    if pid == 0:  # the child: never returns
        split._orphan_ends(parent)
        os.close(go)
        _child(wake, *spools, compiled)
    os.close(wake)
    return Standby(compiled, pid, go, spools)


@contextmanager
def scored_away(
    compiled: CompiledRuleset,
    period: Period,
    indexes: dict[Period, Index],
    org_of: Callable[[Period], Org],
    traced: Collection[str],
    cards: frozenset[str] | None,
) -> Iterator[Standby | None]:
    """The child standing by, given the year's last quarters to score, where that pays
    (else None); it is killed and reaped when the block ends, however it ends."""
    global _standing
    child = _standing
    if child is None or child.compiled is not compiled or not _worth(compiled, period, cards):
        yield None
        return
    quarters = tuple(q for q in period.quarters() if q.quarter in CHILD_QUARTERS)
    if not all(q in indexes for q in quarters):
        yield None
        return
    size = sum(len(lst) for q in quarters for by in indexes[q].values() for lst in by.values())
    if size < MIN_FACTS:
        yield None
        return
    _standing = None  # (once)
    try:
        # The organisations are taken here: `org_of` may read a database.
        job = (quarters, {q: org_of(q) for q in quarters}, traced, cards, decimal.getcontext())
        yield child if child.ask(quarters, job, [indexes[q] for q in quarters]) else None
    finally:
        child.end()


def _write(spool: IO[bytes], indexes: list[Index]) -> None:
    """Each index's groups (subject, type, how many facts) and their facts as columns."""
    for index in indexes:
        # A pickler an index: its memo (the shared dates and data once) is the index's alone.
        dump = pickle.Pickler(spool, protocol=pickle.HIGHEST_PROTOCOL).dump
        groups = [(s, t, len(lst)) for s, by in index.items() for t, lst in by.items()]
        dump(groups)
        facts = chain.from_iterable(lst for by in index.values() for lst in by.values())
        for _ in range(0, sum(n for _, _, n in groups), CHUNK):
            # One pass over a few facts (they lie all over the memory: each visit costs),
            # then the columns of what it took while they are at hand; the subjects and
            # types are the groups'.
            ids, _, _, *cols = zip(*map(astuple, islice(facts, CHUNK)), strict=True)
            dump((_joined(ids), cols))
        dump(None)


def _joined(ids: tuple[str, ...]) -> str | tuple[str, ...]:
    """The ids in one string, a line each (a string a fact costs a lookup of the pickle's
    memo), unless an id holds a line's end."""
    text = "\n".join(ids)
    return text if text.count("\n") == len(ids) - 1 else ids


def _read(spool: IO[bytes]) -> Index:
    """One index as `_write` wrote it: its facts rebuilt, grouped as they were."""
    load = pickle.Unpickler(spool).load
    groups: list[tuple[str, str, int]] = load()
    types = chain.from_iterable(repeat(t, n) for _, t, n in groups)
    subjects = chain.from_iterable(repeat(s, n) for s, _, n in groups)
    facts: list[Fact] = []
    while (chunk := load()) is not None:
        ids, (dates, periods, data, evidence, supersedes, lines) = chunk
        if type(ids) is str:
            ids = ids.split("\n")
        # (`map` stops at the ids' end before it takes a type or a subject more.)
        facts.extend(
            map(Fact, ids, types, subjects, dates, periods, data, evidence, supersedes, lines)
        )
    index: Index = {}
    at = 0
    for s, t, n in groups:
        by = index.get(s)
        if by is None:
            by = index[s] = {}
        by[t] = facts[at : at + n]
        at += n
    return index


class _NotHere(Exception):
    """A quarter of the child's asked for another quarter's run (a cap over the year, which
    forks no child): the child fails and this process scores its quarters."""


def _no_other(_: Period) -> PeriodRun:
    raise _NotHere


def _child(wake: int, facts: IO[bytes], results: IO[bytes], compiled: CompiledRuleset) -> NoReturn:
    """Waits to be woken, then scores each quarter from the facts in `facts`, writing its
    results to `results`; exits."""
    code = 1
    try:
        if os.read(wake, 1) != b"g":  # not asked: this process ends
            os._exit(0)
        from dsl.engine.evaluate import run_period

        gc.disable()  # (as in an evaluation) and no object of the parent's is ever walked
        gc.freeze()
        facts.seek(0)
        quarters, orgs, traced, cards, context = pickle.Unpickler(facts).load()
        decimal.setcontext(context)
        pickler = pickle.Pickler(results, protocol=pickle.HIGHEST_PROTOCOL)
        for i, q in enumerate(quarters):
            index = _read(facts)
            if i == len(quarters) - 1:
                with suppress(OSError):  # all read: the file's memory given back
                    os.ftruncate(facts.fileno(), 0)
            run = PeriodRun(compiled, orgs[q], index, q, traced, _no_other, False, cards)
            run_period(run)
            pickler.dump((run.results, run.pools, run.joint_given))
            run.release()
            del run, index
        pickler.dump(_DONE)
        results.flush()
        code = 0
    except BaseException:  # a rule's error, Ctrl-C: the parent scores these quarters itself
        code = 1
    finally:
        os._exit(code)
