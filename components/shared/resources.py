"""Container requests and limits, shared by every workload section."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from components.shared import grammar
from components.shared.errors import FieldProblem
from components.shared.fields import Cpu, Memory
from components.shared.model import Model


class Resources(Model):
    """Requests and limits for one container (Kubernetes quantities); a request never exceeds its limit."""

    cpu_request: Cpu = "50m"
    """CPU the scheduler reserves for the container: a Kubernetes quantity from `1m` to `256`, at most `cpuLimit`. A
    key left out keeps this workload's default."""
    memory_request: Memory = "64Mi"
    """Memory the scheduler reserves for the container: a Kubernetes quantity from `1Mi` to `256Gi`, at most
    `memoryLimit`."""
    cpu_limit: Cpu = "500m"
    """CPU ceiling; the container is throttled above it."""
    memory_limit: Memory = "256Mi"
    """Memory ceiling; the container is killed above it."""

    @classmethod
    def of(cls, cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> "Resources":
        """Build a default in code (config keys are camelCase only, so keyword construction is off)."""
        return cls.model_validate(
            {
                "cpuRequest": cpu_request,
                "memoryRequest": memory_request,
                "cpuLimit": cpu_limit,
                "memoryLimit": memory_limit,
            }
        )

    @classmethod
    def section(cls, cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> Any:
        """The field type of one workload's resources: a key left out keeps *this workload's* default,
        not the generic one (setting only memoryLimit must not change the CPU limit)."""
        default = cls.of(cpu_request, memory_request, cpu_limit, memory_limit)

        def fill(value: Any) -> Any:
            return {**default.as_config(), **value} if isinstance(value, dict) else value

        return Annotated[Resources, BeforeValidator(fill), Field(default=default)]

    def as_config(self) -> dict:
        return self.model_dump(by_alias=True)

    def as_k8s(self) -> dict:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }

    @model_validator(mode="after")
    def _request_within_limit(self) -> "Resources":
        pairs = (("cpu", self.cpu_request, self.cpu_limit), ("memory", self.memory_request, self.memory_limit))
        for kind, request, limit in pairs:
            if grammar.quantity(request) > grammar.quantity(limit):
                raise FieldProblem(f"{kind}Request", request,
                                   f"is above {kind}Limit {limit!r}: a request may not exceed its limit")
        return self
