"""The semantic checker: every diagnostic of a loaded ruleset, sorted by position.

The parts live in `dsl.check`: declarations, expressions and functions, scorecard structure
and range analysis, items and links, graphs and usage. The codes are listed in `dsl.syntax.codes`.
"""

from __future__ import annotations

from dsl.check.context import Ctx
from dsl.check.decls import (
    check_duplicates,
    check_facts,
    check_header,
    check_organisation,
    check_persons,
    check_tests,
)
from dsl.check.exprs import Exprs
from dsl.check.graph import check_cycles, check_usage
from dsl.check.links import check_item_table, check_joint, check_joint_graph
from dsl.check.scorecards import check_scorecard
from dsl.check.tables import check_pool, check_table
from dsl.syntax.errors import Diagnostic
from dsl.syntax.program import Loaded


def check(loaded: Loaded) -> list[Diagnostic]:
    """Syntax diagnostics plus, when every file parses, every semantic one; sorted."""
    if any(d.is_error for d in loaded.diagnostics):
        return sorted(loaded.diagnostics)
    ctx = Ctx(loaded, loaded.program)
    ex = Exprs(ctx)
    check_header(ctx)
    check_duplicates(ctx)
    check_organisation(ctx, ex)
    check_persons(ctx)
    check_facts(ctx)
    for table in ctx.prog.item_tables.values():
        check_item_table(ex, table)
    for card in ctx.prog.scorecards.values():
        check_scorecard(ex, card)
    for joint in ctx.prog.joints.values():
        check_joint(ex, joint)
    for t in ctx.prog.tables.values():
        check_table(ex, t)
    for pool in ctx.prog.pools.values():
        check_pool(ex, pool)
    check_joint_graph(ctx)
    check_cycles(ctx)
    check_usage(ctx)
    check_tests(ctx)
    return sorted({*loaded.diagnostics, *ctx.diags})
