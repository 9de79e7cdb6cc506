"""Talking to registries and mirrors over HTTP: URL rules, the /v2/ probe, token flow."""
