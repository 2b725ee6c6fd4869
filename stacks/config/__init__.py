"""The only place stack config is read: raw ``quicstack:*`` values in, a validated ``Settings`` out.

``load`` is pure (tests and the hypothesis property call it with plain mappings);
``from_pulumi`` gathers the raw values from the Pulumi runtime and calls it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from components.shared.errors import PROJECT, SECURE_PROBLEM, ConfigError, from_validation_error

from . import credentials, keys, rules
from .settings import Hosts, Settings

__all__ = ["ConfigError", "Hosts", "Settings", "from_pulumi", "load"]


def load(raw: Mapping[str, Any]) -> Settings:
    """Validate raw config (top-level key -> value, without the project prefix)."""
    if not isinstance(raw, Mapping):
        raise ConfigError("", "config is not a mapping of keys to values", has_value=False)
    # The CLI fills object keys declared with `default: {}` in Pulumi.yaml; an empty section means unset.
    credentials.check(raw)
    present = {k: v for k, v in raw.items() if not (k in Settings.model_fields_by_alias() and v in ({}, None, ""))}
    try:
        settings = Settings.model_validate(present)
    except ValidationError as exc:
        raise from_validation_error(exc, Settings) from None
    rules.check(settings)
    return settings


def from_pulumi() -> Settings:
    """Read every ``quicstack:`` key the Pulumi runtime holds and validate it."""
    # The SDK reads a key by name but cannot list the keys (pulumi/pulumi#6789, open), and a misspelt key must fail
    # rather than be ignored. So this reads the runtime's own tables: the language host's PULUMI_CONFIG environment
    # (`get_config_env`) and what set_all_config stored (mocks, inline programs). tests/stacks/config pins both
    # against the pinned SDK: an SDK upgrade that moves them fails a test, not a deploy.
    import pulumi.runtime.config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    keys.check(values, Settings.model_fields_by_alias())
    prefix = f"{PROJECT}:"
    secret = next((k for k in values if k.startswith(prefix) and runtime_config.is_config_secret(k)), None)
    if secret:
        raise ConfigError(secret[len(prefix):], SECURE_PROBLEM, has_value=False)
    return load({k[len(prefix):]: _decode(v) for k, v in values.items() if k.startswith(prefix)})


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects and lists as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
