"""The rulesets the language server keeps: files on disk overlaid by open editors, parsed once.

A keystroke re-parses only the declarations it changed (every other file's parse, and every
other declaration's, is reused while its text is the same; `dsl.incremental`) and then runs the
checker over the whole ruleset, since a change in one file can make a name in another unknown.
The index behind navigation is rebuilt only when asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.lsp.index import Index
from app.lsp.refs import build
from dsl.check.checker import check
from dsl.syntax.errors import Diagnostic
from dsl.syntax.incremental import FileParser
from dsl.syntax.parser import ParseResult, rule_files
from dsl.syntax.program import Loaded, Program
from dsl.syntax.roots import ruleset_root


@dataclass
class Analysis:
    """One state of a ruleset: its sources, syntax tree and checker diagnostics by file."""

    loaded: Loaded
    diagnostics: dict[str, list[Diagnostic]]
    _index: Index | None = None

    @property
    def program(self) -> Program:
        """The merged declarations of the files that parse."""
        return self.loaded.program

    @property
    def parses(self) -> bool:
        """Whether every file parses (navigation needs a whole tree)."""
        return not any(d.code.startswith("E0") for d in self.loaded.diagnostics)

    def index(self) -> Index:
        """Declarations and references, built on first use."""
        if self._index is None:
            self._index = build(self.loaded, self.program)
        return self._index


@dataclass
class Ruleset:
    """A ruleset folder (or a lone rule file) and the parses of its files, by text."""

    root: Path
    _parses: dict[str, tuple[str, ParseResult]] = field(default_factory=dict)
    _parsers: dict[str, FileParser] = field(default_factory=dict)
    last: Analysis | None = None
    last_parsing: Analysis | None = None

    def files(self, overlays: Mapping[str, str]) -> dict[str, str]:
        """Every rule file's text, path-sorted: an editor's text where one is open."""
        on_disk = [str(p) for p in rule_files(self.root)] if self.root.exists() else []
        paths = set(on_disk) | {p for p in overlays if _inside(Path(p), self.root)}
        texts: dict[str, str] = {}
        for p in sorted(paths):
            if p in overlays:
                texts[p] = overlays[p]
            else:
                try:
                    texts[p] = Path(p).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
        return texts

    def _parse(self, path: str, text: str) -> ParseResult:
        cached = self._parses.get(path)
        if cached is not None and cached[0] == text:
            return cached[1]
        parser = self._parsers.setdefault(path, FileParser(path))
        result = parser.parse(text)
        self._parses[path] = (text, result)
        return result

    def analyse(self, overlays: Mapping[str, str]) -> Analysis:
        """Parses what changed and checks the whole ruleset."""
        sources = self.files(overlays)
        for gone in set(self._parses) - set(sources):
            del self._parses[gone]
            self._parsers.pop(gone, None)
        modules, syntax = [], []
        for path, text in sources.items():
            result = self._parse(path, text)
            syntax.extend(result.diagnostics)
            if result.module is not None:
                modules.append(result.module)
        loaded = Loaded(self.root, sources, modules, syntax)
        by_file: dict[str, list[Diagnostic]] = {p: [] for p in sources}
        for d in check(loaded):
            by_file.setdefault(d.span.path, []).append(d)
        self.last = Analysis(loaded, by_file)
        if self.last.parses:
            self.last_parsing = self.last
        return self.last

    def navigable(self) -> Analysis | None:
        """The latest analysis in which every file parsed (names stay findable while typing)."""
        return self.last_parsing


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class Rulesets:
    """Every ruleset the editor has touched, by root."""

    def __init__(self) -> None:
        self.by_root: dict[Path, Ruleset] = {}

    def of(self, path: Path) -> Ruleset:
        """The ruleset a file belongs to (created on first use)."""
        root = ruleset_root(path) or path
        rs = self.by_root.get(root)
        if rs is None:
            rs = self.by_root[root] = Ruleset(root)
        return rs

    def containing(self, paths: Iterable[Path]) -> list[Ruleset]:
        """The known rulesets that hold any of these paths."""
        found = [rs for rs in self.by_root.values() if any(_inside(p, rs.root) for p in paths)]
        return found
