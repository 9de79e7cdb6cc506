"""The same Docker Hub mirrors for the builders that do not read daemon.json.

BuildKit in a docker-container builder reads buildkitd.toml, and the containerd image
store reads certs.d/docker.io/hosts.toml (which then overrides daemon.json's mirrors).
ci-guard has no TOML writer for arbitrary documents, so it writes these files whole and
only replaces a file it wrote itself (marked on its first line).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ci_guard.atomic import atomic_write_text
from ci_guard.errors import UsageError
from ci_guard.mirror_url import parse_mirror_url

MARKER = "# Written by ci-guard (mirrors apply); it replaces this file on the next apply."


def _q(text: str) -> str:
    return json.dumps(text)  # a TOML basic string is a JSON string for these values


def buildkitd_toml(mirrors: Sequence[str]) -> str:
    parsed = [parse_mirror_url(url) for url in mirrors]
    hosts = ", ".join(_q(m.netloc) for m in parsed)
    lines = [MARKER, "", '[registry."docker.io"]', f"  mirrors = [{hosts}]"]
    for mirror in parsed:
        if mirror.scheme == "http":
            lines += ["", f"[registry.{_q(mirror.netloc)}]", "  http = true"]
    return "\n".join(lines) + "\n"


def containerd_hosts_toml(mirrors: Sequence[str]) -> str:
    lines = [MARKER, "", 'server = "https://registry-1.docker.io"']
    for url in mirrors:
        lines += [
            "",
            f"[host.{_q(parse_mirror_url(url).url)}]",
            '  capabilities = ["pull", "resolve"]',
        ]
    return "\n".join(lines) + "\n"


def write_owned(path: Path, text: str, *, dry_run: bool) -> str:
    """Write `text` to `path` unless a file not written by ci-guard is there."""
    if path.exists():
        try:
            first = path.read_text("utf-8").splitlines()[:1]
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: cannot read it: {exc}; left untouched") from None
        if first != [MARKER]:
            raise UsageError(
                f"{path}: exists and was not written by ci-guard; left untouched "
                "(merge the mirrors into it by hand, or pass another path)"
            )
        if path.read_text("utf-8") == text:
            return f"{path}: already up to date"
    if dry_run:
        return f"would write {path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return f"wrote {path}"


def write_buildkitd(path: Path, mirrors: Sequence[str], *, dry_run: bool) -> str:
    return write_owned(path, buildkitd_toml(mirrors), dry_run=dry_run)


def write_containerd_hosts(folder: Path, mirrors: Sequence[str], *, dry_run: bool) -> str:
    return write_owned(
        folder / "docker.io" / "hosts.toml", containerd_hosts_toml(mirrors), dry_run=dry_run
    )
