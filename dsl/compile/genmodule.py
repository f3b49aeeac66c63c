"""One generated Python module per rule file: its functions, constants and compilation."""

from __future__ import annotations

import ast
from typing import Any

from dsl.compile import runtime
from dsl.compile.codegen import ExprGen
from dsl.compile.pyast import Scope, at
from dsl.syntax import nodes as n
from dsl.syntax.program import Program


class FileModule:
    """The generated functions of one rule file."""

    def __init__(self, program: Program, path: str) -> None:
        self.path = path
        self.consts: dict[str, tuple[str, ast.expr]] = {}
        self.gen = ExprGen(program, self.consts)
        self.funcs: list[ast.stmt] = []
        self._n = 0

    def add(self, prefix: str, arg: str, body: list[ast.stmt], span: n.Span) -> str:
        """Adds `def <name>(arg): body` and returns its name; `arg` may name several, `f, c`."""
        self._n += 1
        fname = f"{prefix}_{self._n}"
        params = [ast.arg(a.strip()) for a in arg.split(",")]
        args = ast.arguments([], params, None, [], [], None, [])
        fn = ast.FunctionDef(name=fname, args=args, body=body, decorator_list=[], returns=None)
        at(fn, span)
        for stmt in body:
            at(stmt, span)
        self.funcs.append(fn)
        return fname

    def expr_fn(self, prefix: str, arg: str, e: n.Expr, scope: Scope) -> str:
        """A function returning one expression."""
        code, _ = self.gen.expr(e, scope)
        return self.add(prefix, arg, [at(ast.Return(code), e.span)], e.span)  # type: ignore[list-item]

    def build(self) -> dict[str, Any]:
        """Compiles the module and returns its namespace."""
        body: list[ast.stmt] = []
        for ident, value in self.consts.values():
            assign = ast.Assign([ast.Name(ident, ast.Store())], value)
            assign.lineno = 1
            body.append(assign)
        mod = ast.Module(body + self.funcs, [])
        ast.fix_missing_locations(mod)
        code = compile(mod, self.path, "exec")
        ns: dict[str, Any] = {"rt": runtime, "__builtins__": {}}
        exec(code, ns)
        return ns

    def unparse(self) -> str:
        """The generated module as Python source (for `jixiao compile --show`)."""
        body: list[ast.stmt] = [
            ast.Assign([ast.Name(i, ast.Store())], v, lineno=1) for i, v in self.consts.values()
        ]
        return ast.unparse(ast.fix_missing_locations(ast.Module(body + self.funcs, [])))
