"""Reading an organisation and a facts file for a compiled ruleset, validated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dsl.facts.records import Fact, FactProblem, InputError, Org, read_org
from dsl.facts.validate import FactSchema, validate_facts
from dsl.facts.validate_fast import FastCheck, gc_paused, read_checked


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
        schema = compiled.schema
        fast = FastCheck(schema.types, schema.indicators, org)
        records = read_checked(facts_path, fast, problems)
        checked = validate_facts(records, schema, org, str(facts_path))
    problems = sorted(problems + checked.problems, key=lambda p: (p.line, p.field))
    if problems and not skip_invalid:
        raise InputError("facts (nothing was scored; --skip-invalid scores the rest)", problems)
    return Inputs(org, checked.facts, problems)
