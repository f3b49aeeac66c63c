"""Jixiao: rules-driven performance evaluation for tax bureaus."""
