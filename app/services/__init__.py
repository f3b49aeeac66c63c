"""What the API and the command line do, on a session: recording facts and organisations,
registering rulesets, scoring, receipts, tokens, impact on stored facts.

May import `app.store`, the base of `app` and `dsl`; never FastAPI, `app.api` or `app.cli`.
"""
