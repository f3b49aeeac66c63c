"""Checked program to compiled ruleset: the IR, its canonical form and digest, generated code.

`runtime` is the one module generated evaluator code may use; the engine calls it too.
`cache` keeps rulesets that checked clean, parsed, on disk (`compiler.compile_path` reads it).
May import `dsl.syntax`, `dsl.check` and `dsl.facts`.
"""
