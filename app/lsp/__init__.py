"""`jixiao lsp`: the language server for editors, over stdio.

A thin layer over `dsl.syntax`, `dsl.check` and `dsl.fmt`: what it says is what the command
line says. An I/O front end like `app.cli` (which starts it): may import `dsl` and the app's
base, never the store, the services or FastAPI.
"""
