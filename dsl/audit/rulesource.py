"""Rulesets to compare: a folder on disk, or a folder at a git revision (`HEAD~3:rules/2025`).

Tests kept beside the rules are dropped on loading: they are not part of a ruleset's meaning,
and a ruleset read out of git could not find the example files they name.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dsl.compile.canonical import digest
from dsl.syntax import nodes as n
from dsl.syntax.errors import Diagnostic, DslError, RulesetInvalid
from dsl.syntax.parser import RULE_SUFFIX, parse_text
from dsl.syntax.program import Loaded, Program, load


class RuleSourceError(DslError):
    """A ruleset to compare could not be found or read."""


@dataclass
class RuleSource:
    """A checked ruleset without its tests, and how to show its file positions."""

    label: str
    program: Program
    sources: dict[str, str]

    @property
    def digest(self) -> str:
        """The ruleset's digest (see `dsl.compile.canonical`)."""
        return digest(self.program)

    @property
    def name(self) -> str:
        """The ruleset's name from its header."""
        return self.program.header.name if self.program.header else ""

    @property
    def year(self) -> int | None:
        """The ruleset's year from its header."""
        return self.program.header.year if self.program.header else None

    @staticmethod
    def at(span: n.Span) -> str:
        """`file:line` of a span: `rules/2024/county.jx:14` or `HEAD~1:rules/2024/county.jx:14`."""
        return f"{span.path}:{span.line}"


def _without_tests(loaded: Loaded) -> Loaded:
    modules = [
        n.Module(m.path, tuple(d for d in m.decls if not isinstance(d, n.TestDecl)), m.comments)
        for m in loaded.modules
    ]
    return Loaded(loaded.root, loaded.sources, modules, loaded.diagnostics)


def _checked(loaded: Loaded, label: str) -> RuleSource:
    from dsl.check.checker import check

    loaded = _without_tests(loaded)
    diags = check(loaded)
    if any(d.is_error for d in diags):
        raise RulesetInvalid(diags, loaded.sources)
    return RuleSource(label, loaded.program, loaded.sources)


def from_folder(path: Path, label: str | None = None) -> RuleSource:
    """A ruleset folder (or single file) on disk."""
    if not path.exists():
        raise RuleSourceError(f"no such ruleset folder or file: {path}")
    return _checked(load(path), label or str(path))


def _git(cwd: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as e:
        raise RuleSourceError(f"cannot run git: {e}") from e
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuleSourceError(f"git {' '.join(args)}: {message}")
    return done.stdout


def from_git(rev: str, path: str, cwd: Path | None = None) -> RuleSource:
    """The rule files under `path` (relative to the repository's top) at revision `rev`."""
    here = cwd or Path.cwd()
    top = Path(_git(here, "rev-parse", "--show-toplevel").decode().strip())
    rel = path.strip("/")
    listing = _git(top, "ls-tree", "-r", "-z", "--name-only", rev, "--", rel or ".")
    names = [x for x in listing.decode("utf-8").split("\0") if x.endswith(RULE_SUFFIX)]
    if not names:
        raise RuleSourceError(f"no rule files under '{rel}' at {rev}")
    label = f"{rev}:{rel}"
    with tempfile.TemporaryDirectory(prefix="jixiao-rev-") as tmp:
        root = Path(tmp)
        for name in names:
            blob = _git(top, "cat-file", "blob", f"{rev}:{name}")
            dest = root / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(blob)
        base = root / rel if rel else root
        loaded = load(base if base.is_dir() else root / names[0])
        shown = {
            p: f"{rev}:{Path(p).resolve().relative_to(root.resolve()).as_posix()}"
            for p in loaded.sources
        }
        loaded = _renamed(loaded, shown)
    return _checked(loaded, label)


def _renamed(loaded: Loaded, shown: dict[str, str]) -> Loaded:
    """The same files, parsed again under the names the user knows them by."""
    sources = {shown[p]: text for p, text in loaded.sources.items()}
    modules: list[n.Module] = []
    diags: list[Diagnostic] = []
    for path in sorted(sources):
        result = parse_text(sources[path], path)
        diags.extend(result.diagnostics)
        if result.module is not None:
            modules.append(result.module)
    return Loaded(loaded.root, sources, modules, diags)


def load_rules(spec: str, cwd: Path | None = None) -> RuleSource:
    """`rules/2025` (a folder) or `REV:path` (a folder at a git revision)."""
    here = cwd or Path.cwd()
    local = here / spec
    if local.exists():
        return from_folder(Path(spec) if cwd is None else local, spec)
    if ":" in spec:
        rev, _, path = spec.partition(":")
        return from_git(rev, path, here)
    raise RuleSourceError(f"no such ruleset folder or file, nor REV:path: {spec}")
