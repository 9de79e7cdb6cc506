"""The registry token flow: read a WWW-Authenticate challenge, fetch an anonymous token."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from ci_guard.registry.http import HttpAnswer, Opener

_PARAM_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    scheme: str
    """Lower case: "bearer" or "basic"."""
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str | None) -> Challenge | None:
    """The first challenge of a WWW-Authenticate header, or None when it has none."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM_RE.finditer(rest)
    }
    return Challenge(scheme=scheme.lower(), params=params)


@dataclass(frozen=True)
class TokenResult:
    token: str | None
    status: int
    reason: str
    """Empty on success, else why no token came."""


def fetch_token(challenge: Challenge, scope: str, *, opener: Opener, timeout: float) -> TokenResult:
    """Ask the challenge's realm for an anonymous pull token for `scope`."""
    realm = challenge.params.get("realm")
    if not realm or not realm.startswith(("https://", "http://")):
        return TokenResult(None, 0, f"Bearer challenge without a usable realm ({realm!r})")
    query = {"scope": scope}
    if "service" in challenge.params:
        query["service"] = challenge.params["service"]
    sep = "&" if "?" in realm else "?"
    answer = opener("GET", f"{realm}{sep}{urlencode(query)}", headers={}, timeout=timeout)
    return _token_from(answer)


def _token_from(answer: HttpAnswer) -> TokenResult:
    if answer.status in (401, 403):
        return TokenResult(
            None, answer.status, f"token server refused anonymous pull ({answer.status})"
        )
    if answer.status != 200:
        return TokenResult(None, answer.status, f"token server answered {answer.status}")
    try:
        document = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return TokenResult(None, answer.status, "token server answered with invalid JSON")
    token = (
        document.get("token") or document.get("access_token")
        if isinstance(document, dict)
        else None
    )
    if not isinstance(token, str) or not token:
        return TokenResult(None, answer.status, "token server answer holds no token")
    return TokenResult(token, answer.status, "")
