"""The auditors' comparisons of two rulesets in service: their diff, and their impact on the
recorded facts of a period (what the API and the web pages both answer)."""

from __future__ import annotations

from sqlalchemy import Engine

from app.services.registry import LoadedRuleset, Registry
from dsl.audit.diff_model import RulesetDiff
from dsl.audit.impact_report import ImpactReport
from dsl.audit.rulesource import RuleSource
from dsl.facts.periods import Period


def rule_source(r: LoadedRuleset) -> RuleSource:
    """A loaded ruleset as the diff and impact read it."""
    return RuleSource(r.folder, r.compiled.program, r.compiled.sources)


def diff(registry: Registry, old: str, new: str) -> RulesetDiff:
    """What changed in meaning between two rulesets (years or digests)."""
    from dsl.audit.diff import diff_rulesets

    return diff_rulesets(rule_source(registry.resolve(old)), rule_source(registry.resolve(new)))


def impact(
    engine: Engine, registry: Registry, old: str, new: str, period: Period, attribution: bool
) -> ImpactReport:
    """The recorded facts of `period` scored under both rulesets, subject by subject."""
    from app.services.impact import db_facts
    from dsl.audit.impact import run_impact

    a = rule_source(registry.resolve(old))
    b = rule_source(registry.resolve(new))
    inputs, facts = db_facts(engine, a, b, period)
    return run_impact(a, b, inputs.org, facts, period, attribute=attribution, org_at=inputs.org_of)
