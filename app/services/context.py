"""What every request may use (settings, engine, rulesets in service, the score cache), and how a
request names a period and a ruleset: shared by the API and the web pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from app.errors import Invalid, NotFound
from app.services.cache import ScoreCache
from app.services.registry import LoadedRuleset, Registry
from app.settings import Settings
from dsl.facts.periods import Period


@dataclass
class Services:
    """The application's services, built once by `create_app`."""

    settings: Settings
    engine: Engine
    registry: Registry
    cache: ScoreCache
    # sends a job to the workers (`app.jobs`); None: jobs run in the serving process
    dispatch: Callable[[int], None] | None = None


def parse_period(text: str, field: str = "query.period") -> Period:
    """A period from a parameter; Invalid naming the field otherwise."""
    try:
        return Period.parse(text)
    except ValueError as e:
        err = Invalid(str(e))
        err.details = [{"field": field, "message": str(e)}]
        raise err from e


def ruleset_for(svc: Services, ruleset: str | None, period: Period) -> LoadedRuleset:
    """The ruleset named (year or digest), else the one serving the period's year."""
    if ruleset is None:
        loaded = svc.registry.for_year(period.year)
        if loaded is None:
            raise NotFound(f"no ruleset in service for {period.year}; name one with ?ruleset=")
    else:
        loaded = svc.registry.resolve(ruleset)
    header = loaded.compiled.program.header
    if header is not None and period.kind not in header.periods:
        raise NotFound(f"ruleset {loaded.compiled.digest[:12]} does not score {period.kind}s")
    return loaded
