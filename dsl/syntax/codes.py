"""Every diagnostic code of the parser and checker: its severity and a one-line description.

The language reference's list of diagnostics is generated from `CODES` (see `markdown()`).
Decisions the checker takes where the language leaves room, stated once here:

- Semantic checks run only when every file of the ruleset parses: a file that does not parse
  would make every name it declares look unknown elsewhere.
- Where an id is declared twice, the first declaration (in file path order) is kept (E102).
- Category, component and indicator ids, results (`base`, `final`, ...) and `let` names share
  one namespace inside a scorecard; indicator ids are unique across the ruleset, since links
  and `indicator` fields name them without their scorecard.
- A `deduct` rule starts from the indicator's points and needs a `floor`; an `add` rule starts
  from 0 and needs a `ceiling`. A table (`by level {...}`, `match`) must name every value of
  its enum field, or have `else`.
- `value(F.x)` needs a `period` fact (one value); `mean`/`weighted_mean` need a `period` or
  `period many` fact: over dated facts use `sum`, `count` or `distinct`.
- Range analysis (E305/W301) bounds a rule's score with interval arithmetic over the declared
  field ranges (counts are >= 0, ranks >= 1). The bound is exact when every input occurs once
  in the rule (lets expanded): then a score outside 0..points is reachable and is an error;
  otherwise the bound may be loose and the finding is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.syntax.errors import Severity


@dataclass(frozen=True)
class Code:
    """A diagnostic code with its severity and what it reports."""

    code: str
    severity: Severity
    summary: str


_ALL = (
    # ---- syntax
    Code("E001", "error", "unexpected token or end of file"),
    Code("E002", "error", "unexpected character"),
    Code("E003", "error", "a statement given twice, or a field range with == or !="),
    # ---- names
    Code("E101", "error", "unknown name in an expression or rank key"),
    Code("E102", "error", "an id declared twice in the same namespace"),
    Code("E103", "error", "unknown fact type"),
    Code("E104", "error", "unknown scorecard"),
    Code("E105", "error", "unknown sequence"),
    Code("E106", "error", "unknown item table"),
    Code("E107", "error", "unknown field of a fact type"),
    Code("E108", "error", "unknown indicator"),
    Code("E109", "error", "unknown item of a scorecard's item table"),
    Code("E110", "error", "unknown unit kind"),
    Code("E111", "error", "unknown person or unit attribute"),
    Code("E112", "error", "unknown field type"),
    Code("E113", "error", "unknown function"),
    Code("E114", "error", "unknown rounding mode"),
    Code("E115", "error", "unknown tier or grade"),
    Code("E116", "error", "an id that clashes with a reserved result name"),
    # ---- types
    Code("E201", "error", "an expression of the wrong type"),
    Code("E202", "error", "a name that is not a value of the compared enum field"),
    Code("E203", "error", "a `match` that does not cover every value of its enum"),
    Code("E204", "error", "a `match` arm that is not a value of the enum"),
    Code("E205", "error", "a table key that is not a value of its `by` field"),
    Code("E206", "error", "a table that does not cover every value of its `by` field"),
    Code("E207", "error", "a number compared with a field outside the field's declared range"),
    Code("E208", "error", "a fact, item or target whose subject (unit/person) does not fit"),
    Code("E209", "error", "a function applied to a fact of the wrong kind (dated/period/many)"),
    Code("E210", "error", "a function called with the wrong number of arguments"),
    Code("E211", "error", "a function or argument form used where it is not allowed"),
    Code("E212", "error", "a `by` field that is not an enum field"),
    Code("E213", "error", "an invalid field type (range on a non-number, empty range)"),
    Code("E214", "error", "an indicator's risk level that is not high, medium or low"),
    Code("E215", "error", "`counts_in next open period` on a fact type that is not dated"),
    # ---- structure
    Code("E301", "error", "no ruleset header"),
    Code("E302", "error", "a ruleset header without year, periods or rounding"),
    Code("E303", "error", "category or component weights that do not sum to 100%"),
    Code("E304", "error", "indicator points that do not sum to the category's max"),
    Code("E305", "error", "a rule that provably scores outside 0..its points"),
    Code("E306", "error", "a per-fact rule with a missing or misplaced floor/ceiling"),
    Code("E307", "error", "a quota outside 0%..100%"),
    Code("E308", "error", "tiers or grades without `otherwise` as the last band"),
    Code("E309", "error", "a scorecard with no categories or components, or both"),
    Code("E310", "error", "a period that the ruleset or scorecard does not score"),
    Code("E311", "error", "a joint-liability link whose source or target does not fit"),
    Code("E312", "error", "a weight, amount, ratio or cap that is not positive"),
    Code("E313", "error", "a test naming a file that does not exist (more than three: grouped)"),
    Code(
        "E314",
        "error",
        "a test expecting a result or subject that does not exist, or a value of the wrong kind",
    ),
    # ---- graphs
    Code("E315", "error", "an indicator's max below its points"),
    Code("E316", "error", "a `steps` table without `else` as its last step"),
    Code("E320", "error", "a result rounded to more places than the ruleset publishes"),
    Code("E401", "error", "a cycle of scorecards through links or cross-scorecard references"),
    Code("E402", "error", "a cycle of joint blocks through links of kind `joint`"),
    # ---- warnings
    Code("W101", "warning", "a fact type that no rule, item, link or veto uses"),
    Code("W102", "warning", "a fact type declared `unscored` that a rule uses"),
    Code("W103", "warning", "a sequence that no scorecard uses"),
    Code("W104", "warning", "an item table that no scorecard uses"),
    Code("W301", "warning", "a rule that may score outside 0..its points (loose bound)"),
    Code("W302", "warning", "a `final` that ignores the scorecard's items or joint liability"),
    Code("W303", "warning", "a ruleset year that differs from its folder's name"),
    Code("W304", "warning", "a step of `steps` that an earlier step always takes first"),
)

CODES: dict[str, Code] = {c.code: c for c in _ALL}


def severity(code: str) -> Severity:
    """The severity of a registered code."""
    return CODES[code].severity


def markdown() -> str:
    """The table of diagnostics for the language reference."""
    rows = ["| code | severity | reports |", "|---|---|---|"]
    rows.extend(f"| {c.code} | {c.severity} | {c.summary} |" for c in _ALL)
    return "\n".join(rows) + "\n"
