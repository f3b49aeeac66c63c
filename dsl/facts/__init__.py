"""Inputs: the organisation, facts and periods, read from JSON and checked by one validator.

May import `dsl.syntax` only (a ruleset's fact declarations are syntax nodes).
"""
