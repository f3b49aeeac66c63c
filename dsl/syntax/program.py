"""A ruleset's declarations merged across its files, indexed by kind and id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from dsl.syntax import nodes as n
from dsl.syntax.errors import Diagnostic
from dsl.syntax.parser import parse_text, rule_files


@dataclass
class Program:
    """Every declaration of a ruleset; where an id is declared twice the first one is kept."""

    modules: list[n.Module]
    header: n.RulesetDecl | None = None
    organisation: n.OrganisationDecl | None = None
    sequences: dict[str, n.SequenceDecl] = field(default_factory=dict)
    facts: dict[str, n.FactDecl] = field(default_factory=dict)
    scorecards: dict[str, n.Scorecard] = field(default_factory=dict)
    item_tables: dict[str, n.ItemTable] = field(default_factory=dict)
    joints: dict[str, n.Joint] = field(default_factory=dict)
    tests: dict[str, n.TestDecl] = field(default_factory=dict)
    tables: dict[str, n.TableDecl] = field(default_factory=dict)
    pools: dict[str, n.PoolDecl] = field(default_factory=dict)

    @classmethod
    def from_modules(cls, modules: Iterable[n.Module]) -> Program:
        """Indexes the declarations of the given modules."""
        prog = cls(list(modules))
        for decl in prog.decls():
            if isinstance(decl, n.RulesetDecl):
                prog.header = prog.header or decl
            elif isinstance(decl, n.OrganisationDecl):
                prog.organisation = prog.organisation or decl
            elif isinstance(decl, n.SequenceDecl):
                prog.sequences.setdefault(decl.id, decl)
            elif isinstance(decl, n.FactDecl):
                prog.facts.setdefault(decl.id, decl)
            elif isinstance(decl, n.Scorecard):
                prog.scorecards.setdefault(decl.id, decl)
            elif isinstance(decl, n.ItemTable):
                prog.item_tables.setdefault(decl.id, decl)
            elif isinstance(decl, n.Joint):
                prog.joints.setdefault(decl.id, decl)
            elif isinstance(decl, n.TableDecl):
                prog.tables.setdefault(decl.id, decl)
            elif isinstance(decl, n.PoolDecl):
                prog.pools.setdefault(decl.id, decl)
            else:
                prog.tests.setdefault(decl.id, decl)
        for seq in list(prog.sequences.values()):
            # A union holds the subjects of its parts (the checker proves they agree).
            part = next((prog.sequences.get(p.name) for p in seq.parts), None)
            if part is not None and not part.parts and part.subject != seq.subject:
                prog.sequences[seq.id] = replace(seq, subject=part.subject)
        return prog

    def decls(self) -> Iterator[n.Decl]:
        """Every declaration, file by file in path order."""
        for module in self.modules:
            yield from module.decls

    def indicators(self) -> Iterator[tuple[n.Scorecard, n.Category, n.Indicator]]:
        """Every indicator with its scorecard and category."""
        for sc in self.scorecards.values():
            for cat in sc.categories:
                for ind in cat.indicators:
                    yield sc, cat, ind

    def indicator(self, ident: str) -> n.Indicator | None:
        """The indicator with this id, in any scorecard."""
        for _, _, ind in self.indicators():
            if ind.id == ident:
                return ind
        return None


@dataclass
class Loaded:
    """The result of reading a ruleset's files: sources, modules and syntax diagnostics."""

    root: Path
    sources: dict[str, str]
    modules: list[n.Module]
    diagnostics: list[Diagnostic]

    @property
    def program(self) -> Program:
        """The merged declarations."""
        return Program.from_modules(self.modules)


def display_path(path: Path) -> str:
    """A path as diagnostics show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_sources(root: Path) -> dict[str, str]:
    """The text of every rule file of a ruleset, by path as diagnostics show it."""
    return {display_path(f): f.read_text(encoding="utf-8") for f in rule_files(root)}


def load(root: Path, sources: dict[str, str] | None = None) -> Loaded:
    """Reads and parses every rule file of a ruleset (a folder or a single file); `sources`,
    when given, are its files as `read_sources` read them."""
    if sources is None:
        sources = read_sources(root)
    modules: list[n.Module] = []
    diags: list[Diagnostic] = []
    for shown, text in sources.items():
        result = parse_text(text, shown)
        diags.extend(result.diagnostics)
        if result.module is not None:
            modules.append(result.module)
    return Loaded(root, sources, modules, diags)
