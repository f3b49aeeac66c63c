"""Syntax tree to diagnostics: names, types, ranges and links of a loaded ruleset (`checker`).

May import `dsl.syntax` only.
"""
