"""The real Pulumi CLI (``make engine-cli``), each test in its own sandbox (``tests/support/pulumi_cli.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.pulumi_cli import Sandbox, cli_path, cli_version


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    cli = cli_path()
    assert cli.is_file(), f"{cli} is missing: run `make engine-cli` (builds the Pulumi CLI v{cli_version()} with Go)"
    return cli


@pytest.fixture
def sandbox(tmp_path, pulumi_cli) -> Sandbox:
    return Sandbox(tmp_path, cli=pulumi_cli)
