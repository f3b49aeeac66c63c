"""The Jixiao rule language, one package per stage (see docs/architecture.md).

syntax → check → compile → engine → audit; fmt and facts beside. Each package's docstring says
what it does and which packages it may import.
"""
