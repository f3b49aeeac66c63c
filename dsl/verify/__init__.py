"""`jixiao verify`: properties of a year's scorecards, proved from the rules.

Ranges (`ranges`), monotonicity (`monotone`), caps and floors (`limits`), tiers and grades
(`bands`), joint-liability links (`links`); `run` puts them together per scorecard.

Beside `audit`: may import every stage below it (syntax, check, fmt, facts, compile, engine),
not `audit` or `analysis`. It reuses the checker's interval analysis and the runtime's rounding.
"""
