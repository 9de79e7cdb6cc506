"""`ci-guard prefetch`: pre-pull images concurrently, with classification-aware retries."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ci_guard import exitcodes
from ci_guard.cli.options import Command, deprecated_alias, given_flags, settings_options
from ci_guard.config import Config, resolve
from ci_guard.errors import CiGuardError, UsageError
from ci_guard.images.image_ref import parse_image_ref
from ci_guard.images.prefetch import FAILED, PrefetchReport, PullOutcome, PullTarget

DEFAULT_ATTEMPTS = 3
_SETTINGS = ("prefetch-images", "backoff-initial", "backoff-max", "rate-limit-backoff")


def collect_targets(
    images: tuple[str, ...],
    dockerfiles: tuple[Path, ...],
    composes: tuple[Path, ...],
    build_args: dict[str, str],
    config: Config,
    *,
    profiles: tuple[str, ...] = (),
) -> tuple[list[PullTarget], list[str]]:
    """The images to pull (validated, deduplicated) and warnings; UsageError on bad input."""
    from ci_guard.images.compose_refs import read_compose
    from ci_guard.images.dockerfile_refs import read_dockerfile

    targets = [PullTarget(image) for image in images]
    warnings: list[str] = []
    for path in dockerfiles:
        refs = read_dockerfile(path, build_args)
        targets += [PullTarget(i.image, i.platform, i.source) for i in refs.images]
        warnings += refs.unresolved
    for path in composes:
        refs = read_compose(path, profiles=profiles)
        targets += [PullTarget(i.image, i.platform, i.source) for i in refs.images]
        warnings += refs.unresolved
    if not (images or dockerfiles or composes):
        targets = [PullTarget(image, source="prefetch-images") for image in config.prefetch_images]
    unique: dict[tuple[str, str | None], PullTarget] = {}
    for target in targets:
        try:
            name = str(parse_image_ref(target.image))
        except UsageError as exc:
            raise UsageError(f"{exc.message} (from {target.source})") from None
        unique.setdefault((name, target.platform), PullTarget(name, target.platform, target.source))
    return list(unique.values()), warnings


def _parse_build_args(values: tuple[str, ...]) -> dict[str, str]:
    args = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key or not sep:
            raise UsageError(f"bad --build-arg {item!r}: expected NAME=VALUE")
        args[key] = value
    return args


def _progress(outcome: PullOutcome, done: int, total: int) -> None:
    what = outcome.status if outcome.status != FAILED else f"FAILED ({outcome.failure_class})"
    tries = f", {outcome.attempts} attempts" if outcome.attempts > 1 else ""
    click.echo(
        f"[{done}/{total}] {outcome.image}: {what} in {outcome.duration_s:.1f}s{tries}", err=True
    )


def render(report: PrefetchReport) -> str:
    lines = [
        f"prefetch: {report.count('pulled')} pulled, {report.count('present')} already present, "
        f"{report.count(FAILED)} failed in {report.duration_s:.1f}s"
    ]
    for outcome in report.outcomes:
        if outcome.status == FAILED:
            lines.append(
                f"  failed: {outcome.image} [{outcome.failure_class}] after "
                f"{outcome.attempts} attempt(s): {outcome.detail}"
            )
    lines += [f"  warning: {warning}" for warning in report.warnings]
    return "\n".join(lines)


@click.command(name="prefetch", cls=Command)
@click.argument("images", nargs=-1)
@click.option(
    "--from-dockerfile",
    "dockerfiles",
    multiple=True,
    metavar="PATH",
    type=click.Path(path_type=Path),
    help="Pull the images this Dockerfile's FROM lines name.",
)
@click.option(
    "--from-compose",
    "composes",
    multiple=True,
    metavar="PATH",
    type=click.Path(path_type=Path),
    help="Pull the images (and base images) of this compose file, or of the compose "
    "project in this directory (found as `docker compose` finds it).",
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    metavar="NAME",
    help="Compose profile to enable, as `docker compose --profile` (repeatable; "
    "COMPOSE_PROFILES is read too).",
)
@click.option(
    "--build-arg",
    "build_args",
    multiple=True,
    metavar="NAME=VALUE",
    help="A build argument for ARG defaults in FROM lines (repeatable).",
)
@click.option(
    "--parallel", type=click.IntRange(1, 32), default=4, show_default=True, help="Pulls at once."
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 20),
    default=DEFAULT_ATTEMPTS,
    show_default=True,
    metavar="N",
    help="Attempts per image, the first included; only retryable failure classes are retried.",
)
@deprecated_alias("--attempts", "--max-attempts", "max_attempts", type=click.IntRange(1, 20))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@settings_options(_SETTINGS)
def command(
    *,
    images: tuple[str, ...],
    dockerfiles: tuple[Path, ...],
    composes: tuple[Path, ...],
    build_args: tuple[str, ...],
    profiles: tuple[str, ...],
    parallel: int,
    max_attempts: int,
    as_json: bool,
    **params: Any,
) -> None:
    """Pull IMAGEs (default: the prefetch-images setting) before a build needs them.

    \b
    Examples: ci-guard prefetch --from-compose compose.yaml
              ci-guard prefetch alpine:3.20 node:20 --max-attempts 5 --json
    Exit:     0 every image pulled or present, 1 one failed, 2 bad input (an
              unreadable Dockerfile or compose file, a bad image reference)
    More:     ci-guard help prefetch, ci-guard help exit-codes
    """  # fmt: skip
    from ci_guard.images.prefetch import RetryPolicy

    config = resolve(given_flags(params), config_path=params.get("config_file")).config
    targets, warnings = collect_targets(
        images, dockerfiles, composes, _parse_build_args(build_args), config, profiles=profiles
    )
    policy = RetryPolicy(max_attempts, config.backoff_initial, config.backoff_max,
                         config.rate_limit_backoff)  # fmt: skip
    report = _run(targets, policy, parallel, show_progress=not as_json and sys.stderr.isatty())
    report.warnings = warnings
    click.echo(json.dumps(report.as_dict()) if as_json else render(report))
    sys.exit(exitcodes.SUCCESS if report.ok else 1)


def _run(
    targets: list[PullTarget], policy: Any, parallel: int, *, show_progress: bool
) -> PrefetchReport:
    from ci_guard.classify import classify_text
    from ci_guard.docker.api import ping, resolve_host
    from ci_guard.docker.sdk import open_client
    from ci_guard.images.prefetch import DockerPuller, prefetch

    host = resolve_host()
    if not ping(host, timeout=10.0):
        raise CiGuardError(f"cannot reach the Docker daemon at {host}: is it running?")

    def puller() -> DockerPuller:
        return DockerPuller(open_client(host), host)

    return prefetch(
        targets,
        puller_factory=puller,
        classify=classify_text,
        policy=policy,
        parallel=parallel,
        on_done=_progress if show_progress else None,
    )
