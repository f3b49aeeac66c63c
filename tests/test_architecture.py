"""The import graph of dsl/ and app/ has no cycle and goes only downwards (docs/architecture.md).

Read from the source with `ast`: every import counts, at module level, inside functions and under
`if TYPE_CHECKING:`. `from P import x` is an import of the module `P.x` when there is one,
otherwise of `P`. Running a package's `__init__` on the way to a submodule is not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Each package of dsl/ and what it may import besides itself and the (empty) `dsl` package.
DSL_LAYERS: dict[str, frozenset[str]] = {
    "dsl.syntax": frozenset(),
    "dsl.check": frozenset({"dsl.syntax"}),
    "dsl.fmt": frozenset({"dsl.syntax"}),
    "dsl.facts": frozenset({"dsl.syntax"}),
    "dsl.compile": frozenset({"dsl.syntax", "dsl.check", "dsl.facts"}),
    "dsl.engine": frozenset({"dsl.syntax", "dsl.check", "dsl.compile", "dsl.facts"}),
}
_BELOW_AUDIT = frozenset({*DSL_LAYERS, "dsl.engine"})
DSL_LAYERS["dsl.audit"] = _BELOW_AUDIT
DSL_LAYERS["dsl.analysis"] = _BELOW_AUDIT
DSL_LAYERS["dsl.verify"] = _BELOW_AUDIT

# app/: the shared base (settings, errors, exact JSON) ← store, excel ← services ← api, web, cli;
# the application factory and the server's configuration on top.
APP_BASE = frozenset({"app", "app.errors", "app.exactjson", "app.settings"})
APP_LAYERS: dict[str, frozenset[str]] = {
    "app.store": APP_BASE,
    "app.excel": APP_BASE,
    "app.services": APP_BASE | {"app.store", "app.excel"},
    "app.api": APP_BASE | {"app.store", "app.services", "app.excel"},
    "app.web": APP_BASE | {"app.store", "app.services", "app.excel"},
    "app.jobs": APP_BASE | {"app.store", "app.services", "app.excel"},
    "app.cli": APP_BASE
    | {"app.store", "app.services", "app.excel", "app.uvicorn_config", "app.lsp", "app.jobs"},
    "app.lsp": APP_BASE,
    "app.main": APP_BASE | {"app.store", "app.services", "app.api", "app.web", "app.jobs"},
    "app.uvicorn_config": APP_BASE,
}
# Third-party packages a layer must not use.
FORBIDDEN_EXTERNAL: dict[str, frozenset[str]] = {
    "dsl": frozenset({"fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn"}),
    "app": frozenset({"lark"}),
    "app.store": frozenset({"fastapi", "starlette"}),
    "app.excel": frozenset({"fastapi", "starlette", "sqlalchemy"}),
    "app.services": frozenset({"fastapi", "starlette"}),
    "app.lsp": frozenset({"fastapi", "starlette", "sqlalchemy"}),
}


@dataclass
class Module:
    """One module of the tree and what it imports."""

    name: str
    path: Path
    is_package: bool
    imports: dict[str, int] = field(default_factory=dict)  # module → first line
    external: dict[str, int] = field(default_factory=dict)  # top-level third-party name → line


def _name_of(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def collect() -> dict[str, Module]:
    """Every module under dsl/ and app/ with its imports resolved to modules of the tree."""
    mods: dict[str, Module] = {}
    for top in ("dsl", "app"):
        for path in sorted((REPO / top).rglob("*.py")):
            name, is_package = _name_of(path)
            mods[name] = Module(name, path, is_package)
    for mod in mods.values():
        _read_imports(mod, mods)
    return mods


def _targets(node: ast.Import | ast.ImportFrom, mod: Module) -> Iterator[str]:
    """The dotted names an import statement loads (relative ones made absolute)."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
        return
    base = node.module or ""
    if node.level:
        package = mod.name if mod.is_package else mod.name.rpartition(".")[0]
        parts = package.split(".")
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    for a in node.names:
        yield f"{base}.{a.name}"


def _read_imports(mod: Module, mods: dict[str, Module]) -> None:
    tree = ast.parse(mod.path.read_text(encoding="utf-8"), str(mod.path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for target in _targets(node, mod):
            resolved = target
            while resolved and resolved not in mods:
                resolved = resolved.rpartition(".")[0]
            if resolved:
                if resolved != mod.name:
                    mod.imports.setdefault(resolved, node.lineno)
            elif target.split(".")[0] != "__future__":
                mod.external.setdefault(target.split(".")[0], node.lineno)


def cycles(mods: dict[str, Module]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(mods[v].imports):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(mods):
        if v not in index:
            visit(v)
    return sorted(found)


def layer_of(name: str, layers: dict[str, frozenset[str]]) -> str | None:
    """The layer (a package or module of `layers`) that `name` belongs to."""
    for layer in sorted(layers, key=len, reverse=True):
        if name == layer or name.startswith(layer + "."):
            return layer
    return None


def upward(mods: dict[str, Module]) -> list[str]:
    """Every import that breaks the layering, as `importer:line imports imported (why)`."""
    bad: list[str] = []
    for mod in mods.values():
        for target, line in sorted(mod.imports.items()):
            why = _why_not(mod.name, target)
            if why:
                bad.append(
                    f"{mod.path.relative_to(REPO)}:{line}: {mod.name} imports {target} ({why})"
                )
        for ext, line in sorted(mod.external.items()):
            for prefix, banned in FORBIDDEN_EXTERNAL.items():
                if ext in banned and (mod.name == prefix or mod.name.startswith(prefix + ".")):
                    bad.append(f"{mod.path.relative_to(REPO)}:{line}: {mod.name} imports {ext}")
    return bad


def _why_not(importer: str, target: str) -> str:
    """Why `importer` may not import `target`, or an empty string."""
    if importer.startswith("dsl"):
        if not target.startswith("dsl"):
            return "dsl/ never imports app/"
        return _allowed(importer, target, DSL_LAYERS, frozenset({"dsl"}))
    if target.startswith("dsl") or (importer in APP_BASE and target in APP_BASE):
        return ""
    if importer in APP_BASE:
        return "the base of app/ imports no other part of it"
    return _allowed(importer, target, APP_LAYERS, APP_BASE)


def _allowed(
    importer: str, target: str, layers: dict[str, frozenset[str]], shared: frozenset[str]
) -> str:
    mine, theirs = layer_of(importer, layers), layer_of(target, layers)
    if mine is None:
        return "the importer is in no layer: put it in a package of docs/architecture.md"
    if target in shared or theirs == mine:
        return ""
    if theirs is None or theirs not in layers[mine]:
        return f"{mine} may import only {', '.join(sorted(layers[mine])) or 'nothing else'}"
    return ""


@pytest.fixture(scope="module")
def mods() -> dict[str, Module]:
    return collect()


def test_no_import_cycles(mods: dict[str, Module]) -> None:
    found = cycles(mods)
    assert not found, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_imports_go_only_downwards(mods: dict[str, Module]) -> None:
    bad = upward(mods)
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_the_tree_is_read(mods: dict[str, Module]) -> None:
    assert len(mods) > 100
    assert "dsl.engine.period" in mods["dsl.engine.evaluate"].imports
    assert "lark" in mods["dsl.syntax.parser"].external


def test_every_kind_of_import_counts(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import periods\n"
        "if TYPE_CHECKING:\n"
        "    from dsl.engine.period import PeriodRun\n"
        "def f() -> None:\n"
        "    import dsl.compile.runtime\n"
        "    from dsl.syntax import nodes as n, errors\n",
        encoding="utf-8",
    )
    known = ["dsl.facts.periods", "dsl.engine.period", "dsl.compile.runtime", "dsl.syntax"]
    mods = {name: Module(name, path, False) for name in [*known, "dsl.syntax.nodes"]}
    probe = mods["dsl.facts.probe"] = Module("dsl.facts.probe", path, False)
    _read_imports(probe, mods)
    assert sorted(probe.imports) == [
        "dsl.compile.runtime", "dsl.engine.period", "dsl.facts.periods", "dsl.syntax",
        "dsl.syntax.nodes",
    ]  # fmt: skip
    assert probe.external == {"typing": 1}


def test_cycles_and_upward_imports_are_named(tmp_path: Path) -> None:
    a, b, c = (Module(f"dsl.engine.{x}", tmp_path / f"{x}.py", False) for x in "abc")
    a.imports, b.imports, c.imports = {b.name: 1}, {a.name: 1}, {a.name: 1}
    assert cycles({m.name: m for m in (a, b, c)}) == [["dsl.engine.a", "dsl.engine.b"]]
    assert _why_not("dsl.syntax.nodes", "dsl.engine.period")
    assert _why_not("dsl.facts.inputs", "dsl.compile.ir")
    assert _why_not("dsl.fmt.expr", "dsl.check.exprs")
    assert _why_not("dsl.engine.report", "dsl.audit.diff")
    assert _why_not("dsl.audit.diff", "app.store.db")
    assert _why_not("app.api.routes.rulesets", "app.cli.audit")
    assert _why_not("app.cli.audit", "app.api.deps")
    assert _why_not("app.services.scoring", "app.api.deps")
    assert _why_not("app.store.db", "app.services.facts")
    assert _why_not("app.errors", "app.store.models")
    assert not _why_not("dsl.engine.period", "dsl.compile.runtime")
    assert not _why_not("dsl.audit.impact", "dsl.fmt.expr")
    assert not _why_not("app.api.routes.receipts", "app.store.models")
    assert not _why_not("app.cli.serve", "app.uvicorn_config")
