"""The only place stack config is read: raw ``quicstack:*`` values in, a validated ``Settings`` out.

``load`` is pure (tests and the hypothesis property call it with plain mappings);
``from_pulumi`` gathers the raw values from the Pulumi runtime and calls it. Under the engine (not in the
offline plan) it also refuses what must not reach a cloud: example values (``examples``) and a cloud
stack whose secrets an empty passphrase opens (``passphrase``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pydantic import ValidationError

from components.shared.errors import PROJECT, SECURE_PROBLEM, ConfigError, from_validation_error

from . import credentials, examples, keys, passphrase, rules
from .settings import Hosts, Settings

__all__ = ["ConfigError", "Hosts", "Settings", "from_pulumi", "from_strings", "load", "stack_file"]

ROOT = Path(__file__).resolve().parents[2]


def stack_file(stack: str) -> Path:
    """Where the stack's settings live (Pulumi.yaml: ``stackConfigDir: stacks``)."""
    return ROOT / "stacks" / f"Pulumi.{stack}.yaml"


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
    settings = from_strings(values)
    if not examples.is_offline_plan():
        _engine_checks(settings, pulumi.get_stack())
    return settings


def _engine_checks(settings: Settings, stack: str) -> None:
    """What must not reach a cloud. `pulumi up` (the only run of the program that creates anything) stops; a preview
    creates nothing and stores no secret, so it only warns about example values (the pull-request preview of the
    example stacks, in a throw-away backend with an empty passphrase, still shows everything they would create)."""
    if pulumi.runtime.is_dry_run():
        found = examples.found(settings)
        if found:
            pulumi.log.warn(f"{examples.error(*found[0][:2], stack, [k for k, _, _ in found[1:]])}; `pulumi up` "
                            "refuses it")
        return
    examples.check(settings, stack)
    passphrase.check(stack, stack_file(stack))


def from_strings(values: Mapping[str, str]) -> Settings:
    """The project's keys of a config table as the CLI hands it over (strings; objects as JSON), validated."""
    prefix = f"{PROJECT}:"
    return load({k[len(prefix):]: _decode(v) for k, v in values.items() if k.startswith(prefix)})


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects and lists as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
