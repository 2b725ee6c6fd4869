"""Fixtures of the tools' tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def no_token_from_the_callers_shell():
    """``tools.verify`` and ``tools.publish`` read ``QUICSTACK_TOKEN``: one exported in the shell that runs the tests
    would turn verify's moq check into a publish and refuse URL-only runs, so the tests start without it."""
    saved = os.environ.pop("QUICSTACK_TOKEN", None)
    yield
    if saved is not None:
        os.environ["QUICSTACK_TOKEN"] = saved
