"""Benchmarks that run the real software on loopback (not part of the test suite): ``python -m bench.relay``."""
