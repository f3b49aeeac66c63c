"""Reading an organisation and a facts file for a compiled ruleset, validated."""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from dsl.facts.index import Indexer
from dsl.facts.periods import Period
from dsl.facts.records import Fact, FactProblem, InputError, Org, iter_jsonl, read_org, read_record
from dsl.facts.typed import Keep
from dsl.facts.validate import FactSchema, FactValidator, Validated

if TYPE_CHECKING:
    from dsl.facts.split import Certificate


class Schematic(Protocol):
    """Anything with a fact schema: a compiled ruleset (`dsl.compile.ir.CompiledRuleset`)."""

    @property
    def schema(self) -> FactSchema:
        """What the ruleset says facts must look like."""


@dataclass
class Inputs:
    """A validated organisation and facts, and the facts skipped as invalid (if asked to).

    Read with `load_inputs(..., defer=True)`, the checks across the facts may still be under way
    in a second process (`dsl.facts.certify`): the facts may be scored meanwhile, and `confirm()`
    must be called before anything is said of them. With `periods` too, `indexed` holds the
    facts grouped for those periods as they were read (`evaluate(..., indexed=...)`)."""

    org: Org
    facts: list[Fact]
    skipped: list[FactProblem]
    pending: Callable[[], None] | None = None
    indexed: Indexer | None = None

    def confirm(self) -> None:
        """Waits for the checks across the facts, if any are under way; raises `InputError`
        where they find a problem, as `load_inputs` would have."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending()


def load_inputs(
    compiled: Schematic,
    org_path: Path,
    facts_path: Path,
    skip_invalid: bool = False,
    defer: bool = False,
    periods: Collection[Period] | None = None,
) -> Inputs:
    """Reads and validates; any invalid fact rejects the whole file unless `skip_invalid`.

    With `defer` (and not `skip_invalid`), the checks across a large file's facts are left to
    the second process that read part of it, and the `Inputs` must be confirmed (`confirm`).
    With `periods` too, the facts then kept are those the periods' indexes read and every
    correction (`dsl.facts.typed.Keep`): what evaluating one of them needs, no more; and
    they are grouped for those periods as they are read (`Inputs.indexed`)."""
    org = read_org(org_path)
    with gc_paused():
        validator = FactValidator(compiled.schema, org)
        typed = None
        if defer and not skip_invalid:
            keep = Keep.of(periods) if periods is not None else None
            indexer = Indexer(periods) if periods is not None else None
            typed, cert = validator.read_certified(facts_path, keep, indexer)
            if typed is not None and cert is not None:
                whole = typed if keep is None else None
                check = partial(_confirm, cert, validator, facts_path, whole)
                return Inputs(org, typed, [], check, indexer)
        else:
            typed = validator.read_typed(facts_path, split=True)
        checked, problems = _checked(validator, facts_path, typed)
    if problems and not skip_invalid:
        raise _rejected(problems)
    return Inputs(org, checked.facts, problems)


def _checked(
    validator: FactValidator, path: Path, typed: list[Fact] | None
) -> tuple[Validated, list[FactProblem]]:
    """Every fact of the file checked, across facts too: those the typed reader read
    (`typed`), else the file line by line; and the problems, in the file's order."""
    problems: list[FactProblem] = []
    if typed is not None:
        checked = validator.validate_read(typed, str(path), frozenset())
    else:
        records = read_checked(path, validator, problems)
        checked = validator.validate(records, str(path), frozenset())
    return checked, sorted(problems + checked.problems, key=lambda p: (p.line, p.field))


def _rejected(problems: list[FactProblem]) -> InputError:
    return InputError("facts (nothing was scored; --skip-invalid scores the rest)", problems)


def _confirm(
    cert: Certificate, validator: FactValidator, path: Path, whole: list[Fact] | None
) -> None:
    """The deferred checks across the facts: the child's certificate, else the checks here,
    over `whole` (every fact, read) or the file read again."""
    if cert.clean():
        return
    with gc_paused():
        if whole is None:
            whole = validator.read_typed(path, split=True)
        _, problems = _checked(validator, path, whole)
    if problems:
        raise _rejected(problems)


def read_checked(
    path: Path, validator: FactValidator, problems: list[FactProblem]
) -> Iterator[tuple[int, Any]]:
    """(line, Fact) for each valid line, else (line, record) as `read_raw_facts` reads it.

    Lines that are not JSON objects go to `problems`, worded as `read_raw_facts` words them.
    """
    for i, line in iter_jsonl(path):
        try:
            fact = validator.fact(orjson.loads(line), i)
        except orjson.JSONDecodeError:
            fact = None
        if fact is not None:
            yield i, fact
            continue
        obj = read_record(path, i, line, problems)
        if obj is not None:
            yield i, obj


@contextmanager
def gc_paused(keeping: bool = False) -> Iterator[None]:
    """No cyclic garbage collection inside: reading a million facts builds no cycles, and each
    full collection would walk every fact read so far (it doubled the reading time).

    With `keeping`, for work whose results live on (evaluations kept in a cache): what was built
    inside is then taken as old without being examined (`gc.freeze` and `gc.unfreeze` move
    every object tracked to the oldest generation), where the first collection after the pause
    would have walked it all (0.15 s after a cold warnings request on the province, for the
    evaluations it keeps). Cycles made inside are freed by the next full collection."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if keeping:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
