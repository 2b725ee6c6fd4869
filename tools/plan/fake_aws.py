"""Computed outputs and invoke results that the mocks return for AWS resources (documentation-range values)."""

from __future__ import annotations

from typing import Callable

# resource type token -> function(inputs) -> outputs the provider would compute
COMPUTED: dict[str, Callable[[dict], dict]] = {}

# invoke token -> function(args) -> result
CALLS: dict[str, Callable[[dict], dict]] = {}
