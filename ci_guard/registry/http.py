"""A small HTTP client for registry probes: every answer is a value, never an HTTPError.

The standard library's urllib is enough here (it honours HTTP(S)_PROXY and NO_PROXY
as the CI runner sets them); this module only stops it from raising on 4xx/5xx, keeps
HEAD a HEAD across redirects, and drops credentials when a redirect changes host.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

BODY_LIMIT = 64 * 1024
"""Probes never need more than a token or an error document."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    """Lower-case names; repeated headers joined with ', '."""
    body: bytes = b""
    url: str = ""
    """The URL that answered, after redirects."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Opener(Protocol):
    def __call__(
        self, method: str, url: str, *, headers: Mapping[str, str], timeout: float
    ) -> HttpAnswer:
        """Send one request; raise OSError (or a subclass) when no HTTP answer came."""
        ...


class _NoRaise(urllib.request.HTTPErrorProcessor):
    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        return response

    https_response = http_response


class _KeepMethodRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(  # noqa: PLR0917 - urllib's signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        new.method = req.get_method()
        if urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


_OPENER = urllib.request.build_opener(_NoRaise, _KeepMethodRedirect)


def urllib_opener(
    method: str, url: str, *, headers: Mapping[str, str], timeout: float
) -> HttpAnswer:
    """The default Opener; the timeout bounds connect and each read."""
    request = urllib.request.Request(url, method=method, headers=dict(headers))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            body = b"" if method == "HEAD" else response.read(BODY_LIMIT)
            return HttpAnswer(
                status=response.status,
                headers=_lower_headers(response.headers),
                body=body,
                url=response.geturl(),
            )
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, OSError):
            raise reason from None
        raise OSError(str(reason)) from None
    except http.client.HTTPException as exc:
        raise ConnectionError(f"bad HTTP answer: {type(exc).__name__} {exc}".strip()) from None


def _lower_headers(message: http.client.HTTPMessage) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in message.items():
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


def describe_error(exc: BaseException, timeout: float) -> str:  # noqa: PLR0911
    """A short, stable phrase for a network failure (the probe's `reason`)."""
    if isinstance(exc, socket.gaierror):
        return f"DNS: name does not resolve ({exc.strerror or exc})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: certificate not trusted ({exc.verify_message or exc.reason})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
