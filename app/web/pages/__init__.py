"""The web pages, one module per area; each module has a `router` of `WebRoute`s."""
