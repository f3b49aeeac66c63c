"""Rule text to syntax tree: the grammar, the parser, the nodes, and loading a ruleset's files.

Also the base every later stage shares: diagnostics and errors (`errors`) and the registry of
diagnostic codes (`codes`). Imports nothing else of `dsl`.
"""
