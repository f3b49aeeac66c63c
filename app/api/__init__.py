"""The REST API: dependencies (`deps`), request and response schemas, error handling, routes.

May import `app.services`, `app.store`, the base of `app` and `dsl`; never `app.cli`.
"""
