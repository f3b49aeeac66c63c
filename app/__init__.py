"""Jixiao's service around `dsl`: storage, services, the REST API and the command line.

store ← services ← api, cli (see docs/architecture.md); `main` builds the FastAPI app;
`errors`, `exactjson` and `settings` are the base every part may import.
"""
