"""`jixiao verify`: properties of a year's scorecards, proved from the rules.

Ranges (`ranges`), monotonicity (`monotone`), caps and floors (`limits`), tiers and grades
(`bands`), joint-liability links (`links`); `run` puts them together per scorecard.
"""
