"""Two rulesets compared: what changed in meaning (`diff`) and what it did to scores (`impact`).

May import every other `dsl` package except `dsl.analysis`.
"""
