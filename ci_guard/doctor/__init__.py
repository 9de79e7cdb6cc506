"""Preflight and `ci-guard doctor`: small checks run in parallel, results as values."""
