"""Benchmarks that run the real software on loopback (not part of the test suite): ``python -m bench.relay``."""

# Outside the project's virtualenv, ``tools`` says in one line how to get in (exit 2) before any import fails.
import tools  # noqa: E402,F401
