"""The formatter: a syntax tree (with its comments) printed back as canonical rule text.

May import `dsl.syntax` only.
"""
