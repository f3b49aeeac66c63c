"""A hand-vectorised scorer of the 2025 rules: the yardstick Jixiao's speed is measured against.

《衡阳市税务局绩效考评办法（2024、2025年度）》§2 written by hand for one year: the facts are read
and checked by column (pyarrow's JSON reader with a fixed schema, then polars), grouped by
column, and only the per-subject sums are combined in Python, exactly (integers and `Fraction`),
so that every published figure equals Jixiao's to the cent. It knows nothing of the rule
language and is not part of the product: `bench/reference_score.py` runs it.
"""
