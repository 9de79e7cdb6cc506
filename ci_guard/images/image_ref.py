"""Image references as the Docker CLI checks them: name, tag, digest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ci_guard.errors import UsageError

# The distribution reference grammar (names, tags, digests), as the Docker CLI checks it.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)


@dataclass(frozen=True)
class ImageRef:
    """A valid image reference; `str()` gives it with `:latest` added when untagged."""

    repository: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        if self.digest:
            return f"{self.repository}{':' + self.tag if self.tag else ''}@{self.digest}"
        return f"{self.repository}:{self.tag or 'latest'}"


def parse_image_ref(text: str) -> ImageRef:
    """Validate an image reference; UsageError (one line) if Docker would refuse it."""
    raw = text.strip()
    match = _REFERENCE.match(raw)
    if match is None or len(raw) > 512:
        raise UsageError(f"bad image reference {text!r}")
    domain, path = match.group("domain"), match.group("path")
    # A first component without '.', ':', capitals or "localhost" is a Hub user name,
    # which the pattern also accepts as a domain: both spellings give the same name.
    repository = f"{domain}/{path}" if domain else path
    if len(repository) > 255:
        raise UsageError(f"bad image reference {text!r}: name longer than 255 characters")
    return ImageRef(repository, match.group("tag"), match.group("digest"))
