"""One real control plane per test session (tests/support/control_plane.py), shared by every control-plane test:
started at the first test that needs it, stopped by PID when the session ends. The stacks' objects go into their own
namespaces, and each test deletes what it applied, so the tests do not see each other's objects."""

from __future__ import annotations

import os
import time
from typing import Iterator

import pytest

from tests.support import control_plane as cp


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory) -> Iterator[cp.ControlPlane]:
    reason = cp.skip_reason()
    if reason and os.environ.get("CI"):  # `make test` builds it first: in CI a missing piece is a failure
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    started = time.monotonic()
    with cp.running(tmp_path_factory.mktemp("control-plane")) as plane:
        plane.crds = cp.install_crds(plane)
        plane.start_seconds = time.monotonic() - started
        yield plane
