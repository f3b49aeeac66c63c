"""What verify reports: a table of rows per scorecard, and diagnostics where a promise fails."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.check.context import Ctx
from dsl.syntax import nodes as n
from dsl.syntax.errors import Diagnostic

# code -> (severity, what it reports); the table in docs/authoring.md lists them.
CODES: dict[str, tuple[str, str]] = {
    "V103": ("warning", "a category, indicator or component that can never reach its max"),
    "V201": ("error", "a deduction that can raise a final, or a bonus that can lower it"),
    "V202": ("error", "joint liability that can raise the receiver's final"),
    "V301": ("warning", "a cap or floor that no facts can reach"),
    "V401": ("error", "quotas of tiers or grades that add up to more than 100 % for some n"),
    "V402": ("warning", "a tier or grade that no subject can get"),
    "V501": ("error", "joint-liability links that form a cycle"),
    "V502": ("warning", "a link target that the organisation schema does not guarantee"),
}


@dataclass(frozen=True)
class Row:
    """One line of a scorecard's table: what, its value, what was declared, and how we know."""

    section: str
    what: str
    value: str
    declared: str = ""
    how: str = ""


@dataclass
class Report:
    """Rows per scorecard and every finding, for one ruleset."""

    ctx: Ctx
    rows: dict[str, list[Row]] = field(default_factory=dict)
    findings: list[Diagnostic] = field(default_factory=list)

    def row(self, card: str, row: Row) -> None:
        """Adds a row to a scorecard's table."""
        self.rows.setdefault(card, []).append(row)

    def find(self, code: str, span: n.Span, message: str, *notes: str) -> None:
        """Records a finding."""
        if CODES[code][0] == "error":
            self.findings.append(Diagnostic(span, "error", code, message, tuple(notes)))
        else:
            self.findings.append(Diagnostic(span, "warning", code, message, tuple(notes)))
