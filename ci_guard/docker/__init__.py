"""The Docker daemon as a host part: its endpoint and process, daemon.json, reloads."""
