"""Rule files as pages show them: names inside the ruleset, links with line anchors, and
highlighted lines (comments, strings, keywords, numbers)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

import dsl
from app.services.registry import LoadedRuleset, Registry
from dsl.compile.ir import CompiledRuleset


def _keywords() -> frozenset[str]:
    """The language's keywords: the quoted words of its grammar."""
    words: set[str] = set()
    for grammar in Path(dsl.__file__).parent.rglob("*.lark"):
        words.update(re.findall(r'"([a-z_]+)"', grammar.read_text(encoding="utf-8")))
    return frozenset(words)


KEYWORDS = _keywords()
TOKEN = re.compile(
    r"(?P<comment>#.*)|(?P<string>\"(?:[^\"\\]|\\.)*\")|(?P<number>\b\d+(?:\.\d+)?%?)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_\-]*)|(?P<other>.)"
)


@dataclass(frozen=True)
class SourceRef:
    """A rule's place: the file's name inside the ruleset, its lines, and the page showing it."""

    file: str
    line: int
    end_line: int
    url: str
    lines: tuple[tuple[int, Markup], ...]

    @property
    def label(self) -> str:
        """`county.jx:8`, or `county.jx:8–11` for several lines."""
        tail = f"–{self.end_line}" if self.end_line > self.line else ""
        return f"{self.file}:{self.line}{tail}"


def ruleset_ref(registry: Registry, loaded: LoadedRuleset) -> str:
    """How URLs name a ruleset: its year while it serves that year, else its digest."""
    c = loaded.compiled
    if c.year is not None:
        serving = registry.for_year(c.year)
        if serving is not None and serving.compiled.digest == c.digest:
            return str(c.year)
    return c.digest


def file_names(compiled: CompiledRuleset) -> dict[str, str]:
    """Each source key → its name inside the ruleset folder (`county.jx`, `tests/x.jx`)."""
    return _names(tuple(sorted(compiled.sources)))


@lru_cache(maxsize=64)
def _names(keys: tuple[str, ...]) -> dict[str, str]:
    if not keys:
        return {}
    top = os.path.commonpath([os.path.dirname(k) or "." for k in keys]) if len(keys) > 1 else ""
    if not top and len(keys) == 1:
        top = os.path.dirname(keys[0])
    return {k: os.path.relpath(k, top) if top else k for k in keys}


def highlight(line: str) -> Markup:
    """One line of rule source as HTML with token classes."""
    out: list[str] = []
    for m in TOKEN.finditer(line):
        kind, text = m.lastgroup, m.group()
        if kind == "word" and text in KEYWORDS:
            out.append(f'<span class="kw">{escape(text)}</span>')
        elif kind in ("comment", "string", "number"):
            out.append(f'<span class="{kind[:3]}">{escape(text)}</span>')
        else:
            out.append(str(escape(text)))
    return Markup("".join(out))


def highlighted(compiled: CompiledRuleset, key: str) -> list[tuple[int, Markup]]:
    """Every line of a source file, numbered from 1 and highlighted."""
    text = compiled.sources.get(key, "")
    return [(i, highlight(s)) for i, s in enumerate(text.splitlines(), start=1)]


def source_ref(
    compiled: CompiledRuleset, ref: str, where: str, end_line: int | None = None
) -> SourceRef | None:
    """The rule at `path:line` (a trace's `where`), with its lines up to `end_line`."""
    if not where or ":" not in where:
        return None
    path, _, rest = where.rpartition(":")
    try:
        line = int(rest.split(":")[0])
    except ValueError:
        path, _, rest = path.rpartition(":")
        try:
            line = int(rest)
        except ValueError:
            return None
    key = locate(compiled, path)
    if key is None:
        return None
    name = file_names(compiled)[key]
    text = compiled.sources[key].splitlines()
    end = min(max(end_line or line, line), len(text))
    shown = tuple((i, highlight(text[i - 1])) for i in range(line, end + 1) if i <= len(text))
    return SourceRef(name, line, end, f"/rulesets/{ref}/files/{name}#L{line}", shown)


def locate(compiled: CompiledRuleset, path: str) -> str | None:
    """The source key of a file named by a path relative or absolute (the same file)."""
    if path in compiled.sources:
        return path
    for key in compiled.sources:
        if key.endswith("/" + path) or path.endswith("/" + key):
            return key
    return None


def key_of(compiled: CompiledRuleset, name: str) -> str | None:
    """The source key of a file named inside the ruleset."""
    for key, shown in file_names(compiled).items():
        if shown == name:
            return key
    return None
