"""Container requests and limits, shared by every workload section."""

from __future__ import annotations

from components.shared.model import Model


class Resources(Model):
    """Requests and limits for one container (Kubernetes quantity strings)."""

    cpu_request: str = "50m"
    """CPU the scheduler reserves for the container."""
    memory_request: str = "64Mi"
    """Memory the scheduler reserves for the container."""
    cpu_limit: str = "500m"
    """CPU ceiling; the container is throttled above it."""
    memory_limit: str = "256Mi"
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

    def as_k8s(self) -> dict:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }
