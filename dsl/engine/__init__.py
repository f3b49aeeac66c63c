"""Compiled ruleset and facts to results: a period's scores, joint liability, ranking, tiers,
grades, the annual mean, explanations, and the runner of the tests kept beside the rules.

May import `dsl.syntax`, `dsl.check`, `dsl.compile` and `dsl.facts`.
"""
