"""Mirror URL rules: what dockerd accepts as a `registry-mirrors` entry, normalised."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ci_guard.errors import UsageError

# Docker Hub's own names: as a mirror they only make dockerd try Hub twice.
HUB_HOSTS = frozenset({"registry-1.docker.io", "index.docker.io", "docker.io"})
HUB_REGISTRY = "https://registry-1.docker.io"
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


@dataclass(frozen=True)
class MirrorUrl:
    url: str
    """scheme://host[:port], lower-case host, no trailing slash."""
    scheme: str
    host: str
    port: int

    @property
    def netloc(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"

    @property
    def is_hub(self) -> bool:
        return self.host in HUB_HOSTS


def parse_mirror_url(raw: str) -> MirrorUrl:
    """Validate one mirror URL; UsageError (one line) for anything dockerd would refuse."""
    text = raw.strip()
    bad = f"bad mirror URL {raw!r}"
    if not text:
        raise UsageError(f"{bad}: empty")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # an unclosed IPv6 bracket, for one
        raise UsageError(f"{bad}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{bad}: expected https://host[:port] or http://host[:port]")
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"{bad}: credentials do not belong in a mirror URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in text:
        raise UsageError(f"{bad}: no path, query or fragment allowed (dockerd refuses them)")
    host = (parts.hostname or "").lower()
    if not _valid_host(host):
        raise UsageError(f"{bad}: missing or invalid host")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"{bad}: invalid port") from None
    if port == 0:
        raise UsageError(f"{bad}: invalid port")
    default = 443 if parts.scheme == "https" else 80
    port = default if port is None else port
    shown = f"[{host}]" if ":" in host else host
    suffix = "" if port == default else f":{port}"
    return MirrorUrl(
        url=f"{parts.scheme}://{shown}{suffix}", scheme=parts.scheme, host=host, port=port
    )


def _valid_host(host: str) -> bool:
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return bool(_HOST_RE.match(host))


def normalise_mirror(raw: str) -> str:
    return parse_mirror_url(raw).url


def split_hub(urls: list[str]) -> tuple[list[str], list[str]]:
    """(kept mirrors, dropped Hub URLs), normalised and de-duplicated in order."""
    kept: list[str] = []
    dropped: list[str] = []
    for raw in urls:
        mirror = parse_mirror_url(raw)
        target = dropped if mirror.is_hub else kept
        if mirror.url not in target:
            target.append(mirror.url)
    return kept, dropped


def hub_warning(dropped: list[str]) -> str:
    return (
        f"dropped {', '.join(dropped)} from the mirrors: dockerd already tries Docker Hub "
        "after every mirror, so listing it as a mirror only doubles timeouts"
    )
