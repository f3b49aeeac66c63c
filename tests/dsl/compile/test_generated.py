"""Generated evaluator code uses only the runtime module (`rt`) and names it binds itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dsl.compile import runtime
from dsl.compile.compiler import compile_path

REPO = Path(__file__).resolve().parents[3]


def _bound(tree: ast.Module) -> set[str]:
    """Every name the generated module binds: constants, functions, parameters, locals."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


@pytest.mark.parametrize("year", ["2024", "2025"])
def test_generated_code_reads_only_rt_and_its_own_names(year: str) -> None:
    compiled = compile_path(REPO / "rules" / year)
    assert compiled.generated
    for path, source in compiled.generated.items():
        tree = ast.parse(source, path)
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        assert not imports, f"{path} imports"
        bound = _bound(tree)
        free = {
            n.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound
        }
        assert free == {"rt"}, f"{path} reads {sorted(free - {'rt'})}"
        used = {
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "rt"
        }
        missing = sorted(a for a in used if not hasattr(runtime, a))
        assert used and not missing, f"{path} uses rt.{missing} that the runtime lacks"
