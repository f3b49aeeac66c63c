"""Excel and CSV in and out: templates made from a ruleset, imports through the same
validation as JSON (every problem at its cell), and formatted exports of results.

columns   what a fact sheet's columns are (one definition for templates and imports)
choices   drop-down values: enum titles, subjects by name, indicators, periods
cells     reading one cell as the value a fact field takes
reader    workbooks (xlsx, xls, ods) and CSV files as sheets of cell values
facts_in  sheets → the raw fact records the JSON path validates, and problems at cells
org_in    the organisation template → the organisation's JSON form
template  writing the fact and organisation templates
export    writing results, rankings, explanations and impact reports
"""
