"""Checked rulesets kept on disk, so that a command does not parse and check the same rule
files on every run (importing Lark and the checker, building the parser, checking: about a
quarter of a second of each short command).

What is kept is the parsed modules of a ruleset that checked without errors, under a key made
of the rule files (their paths as shown and their text) and of the code that parses and checks
them (the text of every module of `dsl` and the grammar, Lark's and Python's versions). A
changed rule file or a changed checker is a new key, so a stale entry is never read. The check
also reads the files the ruleset's tests name (whether they exist, an organisation's subjects):
the entry holds their digests and is not used once one of them changed. An entry
that cannot be read back (cut short, corrupt, from another version) is a miss, and the ruleset
is parsed and checked again and the entry written anew. Entries are written to a temporary
file first and renamed, so a reader never sees half of one. The folder is the user's own
(`dsl.syntax.parser.cache_folder`: none where others may write), as for the grammar's cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from dsl.syntax import nodes as n
from dsl.syntax.parser import cache_folder

_MARK = "jixiao-checked-ruleset-1"
_KEEP = 64  # entries kept; the oldest go beyond that
_DSL = Path(__file__).resolve().parent.parent


@cache
def code_version() -> str:
    """sha256 of what decides a ruleset's parse and check: every module of `dsl`, the grammar,
    and the versions of Lark and Python."""
    h = hashlib.sha256(_MARK.encode())
    h.update(f"\0{sys.version}\0".encode())
    # Lark's version, from the text of its `__init__` (which states it), without importing it
    lark = find_spec("lark")
    if lark is not None and lark.origin is not None:
        h.update(Path(lark.origin).read_bytes() + b"\0")
    files = sorted([*_DSL.rglob("*.py"), *_DSL.rglob("*.lark")])
    for f in files:
        h.update(str(f.relative_to(_DSL)).encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def key(sources: dict[str, str]) -> str:
    """The entry's key: the rule files (path as shown, text) and the code version."""
    h = hashlib.sha256(code_version().encode())
    for path, text in sorted(sources.items()):
        h.update(b"\0" + path.encode() + b"\0" + text.encode())
    return h.hexdigest()


def _entry(folder: Path, k: str) -> Path:
    return folder / f"checked-{k}.pickle"


def read_by_check(modules: list[n.Module]) -> dict[str, str | None]:
    """The files besides the rule files that checking reads (those the tests name, as
    `dsl.check.decls` finds them), each with the sha256 of its bytes (None: it does not exist
    or cannot be read)."""
    out: dict[str, str | None] = {}
    for module in modules:
        for decl in module.decls:
            if not isinstance(decl, n.TestDecl):
                continue
            base = Path(decl.span.path).parent
            for s in (decl.org, decl.facts, *decl.expect_files):
                if s is None:
                    continue
                path = str(base / s.value)
                if path not in out:
                    try:
                        out[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                    except OSError:
                        out[path] = None
    return out


def get(sources: dict[str, str]) -> list[n.Module] | None:
    """The parsed modules of these rule files if they were checked clean before, else None."""
    folder = cache_folder()
    if folder is None:
        return None
    k = key(sources)
    try:
        with _entry(folder, k).open("rb") as fh:
            got = pickle.load(fh)
    except Exception:  # absent, cut short, corrupt, written by other code: parse again
        return None
    if (
        not isinstance(got, tuple)
        or len(got) != 4
        or got[0] != _MARK
        or got[1] != k
        or not isinstance(got[2], list)
        or not all(isinstance(m, n.Module) for m in got[2])
    ):
        return None
    modules: list[n.Module] = got[2]
    if read_by_check(modules) != got[3]:
        return None  # a file a test names changed: check again
    return modules


def put(sources: dict[str, str], modules: list[n.Module]) -> None:
    """Keeps the modules of rule files that checked without errors (best effort: a cache that
    cannot be written is no cache)."""
    folder = cache_folder()
    if folder is None:
        return
    k = key(sources)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".checked-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(
                    (_MARK, k, modules, read_by_check(modules)),
                    fh,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
            os.replace(tmp, _entry(folder, k))
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(folder)
    except (OSError, pickle.PicklingError, RecursionError):
        return


def _prune(folder: Path) -> None:
    """Removes the oldest entries beyond `_KEEP`."""
    entries = sorted(folder.glob("checked-*.pickle"), key=lambda p: p.stat().st_mtime)
    for old in entries[:-_KEEP]:
        try:
            old.unlink()
        except OSError:
            continue
