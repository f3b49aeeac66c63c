"""For any ruleset that `check` accepts, the compiler and engine run or stop with a diagnostic.

The rulesets are drawn by `tests.dsl.gen.rulesets` (every construct of the grammar, random
compositions, several files) with random facts; `tests.dsl.gen.harness.exercise` checks,
compiles, scores each period (tracing two subjects), renders the results and runs the
ruleset's tests. A ruleset the checker rejects is not counted; the generator is built so
that few are (the second test keeps it so).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dsl.gen.harness import Rejected, exercise
from tests.dsl.gen.rulesets import Drawn, rulesets

# A few hundred examples, a minute or two; `python -m tests.dsl.gen.harness N` runs thousands.
EXAMPLES = 200


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rulesets())
def test_accepted_rulesets_score_or_stop_with_a_diagnostic(drawn: Drawn) -> None:
    try:
        outcomes = exercise(drawn)
    except Rejected:
        return
    assert all(o in ("ok", "input") or o.startswith("R001 ") for o in outcomes), outcomes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rulesets(), min_size=1, max_size=1))
def test_most_drawn_rulesets_check_cleanly(batch: list[Drawn]) -> None:
    """The generator draws well-formed rulesets: a rejected one shows a generator defect or a
    checker error the generator should avoid; only E207 (a compared literal outside a range
    the expression does not show, `-x` say) is tolerated."""
    for drawn in batch:
        try:
            exercise(drawn)
        except Rejected as r:
            assert set(r.codes) <= {"E207"}, (r.codes, drawn.show())
