"""Doctor checks of the mirrors the daemon is configured with: one `mirror:URL` each.

The list is the daemon's effective one: the registry-mirrors of the daemon.json it
reads (when it runs on this host) and those `docker info` reports (RegistryConfig,
when the daemon answers), so a mirror given as a dockerd flag or on a remote daemon
counts too. dockerd tries its mirrors in order and a dead one costs every pull its
timeout (15 s) while BuildKit may wait on it for ever, so a dead mirror is an error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci_guard.docker import api
from ci_guard.docker import daemon_json as dj
from ci_guard.doctor.result import WARNING, CheckResult, failed, passed, since
from ci_guard.errors import CiGuardError, UsageError
from ci_guard.mirror_url import normalise_mirror, split_hub
from ci_guard.mirrors.rank import ProbeFn, RankedMirror, rank_mirrors
from ci_guard.registry.probe import SLOW, probe_registry

DAEMON_JSON = "daemon.json"
DOCKER_INFO = "docker info"


def configured_mirrors(
    daemon_json: Path | None,
    docker_host: str | None,
    timeout: float,
    read_info: Callable[[str, float], dict[str, Any]] = api.info,
) -> dict[str, list[str]]:
    """Each configured mirror (in the daemon's order) with where it was found.

    `daemon_json`: the file the daemon reads, None when it is not this host's to read.
    `docker_host`: the endpoint whose /info lists the mirrors in effect, None to skip.
    """
    found: dict[str, list[str]] = {}
    if daemon_json is not None:
        _add(found, _file_mirrors(daemon_json), DAEMON_JSON)
    if docker_host is not None:
        _add(found, _info_mirrors(docker_host, timeout, read_info), DOCKER_INFO)
    return found


def _add(found: dict[str, list[str]], urls: list[str], source: str) -> None:
    for raw in urls:
        try:
            url = normalise_mirror(raw)
        except UsageError:
            continue  # a malformed entry: the daemon.json check reports it
        sources = found.setdefault(url, [])
        if source not in sources:
            sources.append(source)


def _file_mirrors(path: Path) -> list[str]:
    try:
        return dj.current_mirrors(dj.read_daemon_json(path).data)
    except CiGuardError:
        return []  # the daemon.json check reports what is wrong with the file


def _info_mirrors(
    host: str, timeout: float, read_info: Callable[[str, float], dict[str, Any]]
) -> list[str]:
    try:
        info = read_info(host, max(1.0, timeout))
    except OSError:
        return []  # the daemon check reports that it does not answer
    return [str(m) for m in (info.get("RegistryConfig") or {}).get("Mirrors") or []]


def check_mirrors(
    mirrors: dict[str, list[str]],
    timeout: float,
    image: str,
    probe: ProbeFn = probe_registry,
) -> list[CheckResult]:
    """Probe every configured mirror at once; one check per mirror, in the daemon's order."""
    start = time.monotonic()
    urls, _hub = split_hub(list(mirrors))  # the daemon.json check names Hub entries
    if not urls:
        return []
    ranked = {m.url: m for m in rank_mirrors(urls, timeout=timeout, image=image, probe=probe)}
    took = since(start)
    return [_check(ranked[url], mirrors.get(url, []), took) for url in urls if url in ranked]


def _check(mirror: RankedMirror, sources: list[str], took: float) -> CheckResult:
    name = f"mirror:{mirror.url}"
    data = {"sources": sources, **mirror.probe.as_dict()}
    where = " and ".join(sources) or "the daemon"
    latency = mirror.probe.latency_s or took
    if not mirror.usable:
        fix = "run `ci-guard mirrors apply`" if DAEMON_JSON in sources else "remove it"
        why = (
            f"{mirror.verdict}: {mirror.probe.reason} (listed in {where}; every pull waits "
            f"for it before the next mirror: {fix})"
        )
        return failed(name, why, latency, data=data)
    if mirror.verdict == SLOW:
        return failed(name, f"{mirror.probe.reason} (listed in {where})", latency, WARNING, data)
    return passed(name, f"{mirror.probe.reason} (listed in {where})", latency, data=data)


def daemon_mirror_list(
    daemon_config: Path, *, explicit: bool, timeout: float
) -> tuple[dict[str, list[str]], str]:
    """The mirrors the daemon the docker CLI talks to is configured with, and where they
    were read: its daemon.json (when it runs on this host) and its /info."""
    from ci_guard.docker.endpoint import find_daemon_process, find_endpoint
    from ci_guard.docker.reach import observe_reach
    from ci_guard.mirrors.refresh import effective_daemon_config

    endpoint = find_endpoint()
    reach = observe_reach(endpoint)
    path: Path | None = effective_daemon_config(
        daemon_config, explicit=explicit, process=find_daemon_process(endpoint)
    )
    if reach.remote and not explicit:
        path = None
    listed = configured_mirrors(path, endpoint.url, timeout)
    places = [f"{DAEMON_JSON} {path}"] if path is not None else []
    places.append(f"{DOCKER_INFO} at {endpoint.url}")
    return listed, " and ".join(places)
