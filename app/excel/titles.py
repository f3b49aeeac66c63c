"""The names people read in an export: scorecard, part, indicator and band titles from the
ruleset, subject names from the organisation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dsl.compile.ir import CompiledRuleset
from dsl.facts.records import Org

BAND_WORDS = {"tier": "段", "grade": "等次"}


@dataclass(frozen=True)
class Titles:
    """Titles by id, and how published numbers are shown."""

    places: int
    mode: str = "half_up"
    scorecards: Mapping[str, str] = field(default_factory=dict)
    parts: Mapping[str, str] = field(default_factory=dict)
    indicators: Mapping[str, str] = field(default_factory=dict)
    bands: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # card →
    names: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)  # person → unit name

    def name(self, subject: str) -> str:
        """A subject's name (its id when the organisation does not know it)."""
        return self.names.get(subject, subject)

    def band_title(self, card: str, band: str | None) -> str:
        """A band's title, else its id."""
        if band is None:
            return ""
        return dict(self.bands.get(card, ())).get(band) or band


def titles_of(compiled: CompiledRuleset, org: Org | None) -> Titles:
    """The titles of a ruleset, and the names of an organisation."""
    parts: dict[str, str] = {}
    indicators: dict[str, str] = {}
    bands: dict[str, tuple[tuple[str, str], ...]] = {}
    for card in compiled.scorecards.values():
        for p in card.parts:
            parts[f"{card.id}.{p.id}"] = p.title or p.id
            for i in p.indicators:
                indicators[i.id] = i.title or i.id
    for ident, node in compiled.program.scorecards.items():
        declared: list[tuple[str, str]] = []
        for spec in (node.tiers, node.grades):
            for b in spec.bands if spec is not None else ():
                declared.append((b.id, b.title or b.id))
        bands[ident] = tuple(declared)
    names: dict[str, str] = {}
    units: dict[str, str] = {}
    if org is not None:
        names = {u.id: u.name for u in org.units.values()}
        names.update({p.id: p.name for p in org.persons.values()})
        units = {p.id: names.get(p.unit, p.unit) for p in org.persons.values()}
    return Titles(
        places=compiled.places,
        mode=compiled.round_mode,
        scorecards={k: c.title or k for k, c in compiled.scorecards.items()},
        parts=parts,
        indicators=indicators,
        bands=bands,
        names=names,
        units=units,
    )
