"""ci-guard: make container builds in CI survive the network."""

__version__ = "0.1.0"
