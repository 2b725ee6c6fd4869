"""What the verifier expects when neither a flag nor the stack's outputs say: the config models' own defaults,
read from the models rather than copied."""

from __future__ import annotations

from typing import Any

from components.workloads.envoy.config import EnvoyDemoConfig
from components.workloads.relay.config import RelayConfig


def _default(model: Any, field: str) -> Any:
    return model.model_fields[field].default


SERVER_ID_LENGTH: int = _default(EnvoyDemoConfig, "server_id_length")
RELAY_PATH: str = "/" + _default(RelayConfig, "public_prefix")
H2_BODY: str = _default(EnvoyDemoConfig, "h2_body")
H3_BODY: str = _default(EnvoyDemoConfig, "h3_body")
