"""Storage: the SQLAlchemy models, engines and sessions, migrations' entry, queries and bulk writes.

May import the base of `app` (`errors`, `exactjson`, `settings`) and `dsl`; never FastAPI.
"""
