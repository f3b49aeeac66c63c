"""The checker's parts; `dsl.checker.check` runs them all."""
