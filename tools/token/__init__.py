"""``python -m tools.token``: mint a relay token (see ``__main__.py``)."""
