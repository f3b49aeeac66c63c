"""Reading an organisation and a facts file for a compiled ruleset, validated."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from dsl.facts.records import Fact, FactProblem, InputError, Org, iter_jsonl, read_org, read_record
from dsl.facts.validate import FactSchema, FactValidator


class Schematic(Protocol):
    """Anything with a fact schema: a compiled ruleset (`dsl.compile.ir.CompiledRuleset`)."""

    @property
    def schema(self) -> FactSchema:
        """What the ruleset says facts must look like."""


@dataclass
class Inputs:
    """A validated organisation and facts, and the facts skipped as invalid (if asked to)."""

    org: Org
    facts: list[Fact]
    skipped: list[FactProblem]


def load_inputs(
    compiled: Schematic, org_path: Path, facts_path: Path, skip_invalid: bool = False
) -> Inputs:
    """Reads and validates; any invalid fact rejects the whole file unless `skip_invalid`."""
    org = read_org(org_path)
    problems: list[FactProblem] = []
    with gc_paused():
        validator = FactValidator(compiled.schema, org)
        typed = validator.read_typed(facts_path, split=True)
        if typed is not None:
            checked = validator.validate_read(typed, str(facts_path), frozenset())
        else:
            records = read_checked(facts_path, validator, problems)
            checked = validator.validate(records, str(facts_path), frozenset())
    problems = sorted(problems + checked.problems, key=lambda p: (p.line, p.field))
    if problems and not skip_invalid:
        raise InputError("facts (nothing was scored; --skip-invalid scores the rest)", problems)
    return Inputs(org, checked.facts, problems)


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
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reading a million facts builds no cycles, and each
    full collection would walk every fact read so far (it doubled the reading time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def gc_paused_keeping() -> Iterator[None]:
    """`gc_paused` for work whose results live on (evaluations kept in a cache): what was built
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
            gc.freeze()
            gc.unfreeze()
            gc.enable()
