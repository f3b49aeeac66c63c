"""The facts of an impact report read from the database: what `jixiao impact --db` and the
impact endpoint compare two rulesets on.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.services.scoring import PeriodInputs, load_period
from dsl.audit.impact_facts import FactSource, checked_facts
from dsl.audit.rulesource import RuleSource
from dsl.compile.compiler import compile_program
from dsl.facts.periods import Period


def db_facts(
    engine: Engine, old: RuleSource, new: RuleSource, period: Period
) -> tuple[PeriodInputs, FactSource]:
    """The organisation(s) of the period and the live facts either ruleset declares."""

    with Session(engine) as session, session.begin():
        loaded = [
            load_period(session, compile_program(s.program, s.sources), period) for s in (old, new)
        ]
    facts = {f.id: f for inputs in loaded for f in inputs.facts}
    return loaded[1], checked_facts(facts[k] for k in sorted(facts))
