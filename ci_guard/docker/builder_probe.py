"""Does the daemon's built-in BuildKit resolve an image now? A short build finds out.

dockerd hands its BuildKit the registry hosts (registry-mirrors) when it starts;
dockerd 20.10 keeps them after a SIGHUP reload, although `docker info` and classic
pulls show the new list. Only a resolve through BuildKit itself tells which list the
builder uses, so the probe posts a build to the Engine API (`/build?version=2`, no
session, the context as a tar body) whose Dockerfile is

    FROM <image>
    EXPOSE ci_guard_probe

with `pull=1`, so the base image is resolved at the registry even when it is local.
The EXPOSE value is not a port; the Dockerfile frontend can only expand and check it
after it has the base image's config (EXPOSE may use the image's ENV), so the build
ends with "Invalid containerPort: ci_guard_probe" exactly when the resolve finished.
Nothing is pulled beyond the manifest and config, no image or cache is left behind.
A builder stuck on a mirror that accepts connections and never answers sends
nothing: the probe ends at its deadline and closes the connection (dockerd cancels
the build).
"""

from __future__ import annotations

import http.client
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ci_guard.docker.api import connection

MARKER = "ci_guard_probe"
RESOLVED, STALLED, FAILED, UNSUPPORTED, UNREACHABLE = (
    "resolved",
    "stalled",
    "failed",
    "unsupported",
    "unreachable",
)
"""Outcomes: the base image resolved; no answer by the deadline; BuildKit answered with
an error; the daemon has no BuildKit (or refuses the API call); no daemon answered."""


@dataclass(frozen=True)
class BuilderProbe:
    outcome: str
    image: str
    duration_s: float
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "image": self.image,
            "duration_s": round(self.duration_s, 3),
            "detail": self.detail,
        }


def probe_dockerfile(image: str) -> str:
    return f"FROM {image}\nEXPOSE {MARKER}\n"


def context_tar(dockerfile: str) -> bytes:
    """A build context holding only the Dockerfile, as the tar body /build takes."""
    import tarfile  # only when probing

    data = dockerfile.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def image_ref(image: str) -> str:
    """`library/busybox` -> `docker.io/library/busybox:latest` (a Hub name, mirrors apply)."""
    name = image.strip()
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        name += ":latest"
    if "/" not in name:
        name = f"library/{name}"
    first = name.split("/", 1)[0]
    if "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return name


def probe_builder(
    host: str,
    image: str,
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
) -> BuilderProbe:
    """Resolve `image` through the daemon's BuildKit within `timeout` seconds."""
    ref = image_ref(image)
    started = clock()
    conn = connection(host, timeout)
    if conn is None:
        return BuilderProbe(UNREACHABLE, ref, 0.0, f"cannot reach {host} without the docker CLI")
    query = urlencode({"version": "2", "pull": "1", "rm": "1", "forcerm": "1", "q": "1"})
    try:
        conn.request(
            "POST",
            f"/build?{query}",
            body=context_tar(probe_dockerfile(ref)),
            headers={"Host": "docker", "Content-Type": "application/x-tar"},
        )
        answer = conn.getresponse()
        outcome, detail = _read_answer(answer, started + timeout, clock, conn)
    except TimeoutError:  # socket.timeout is TimeoutError
        outcome, detail = STALLED, f"no answer within {timeout:g}s"
    except (OSError, http.client.HTTPException) as exc:
        outcome, detail = UNREACHABLE, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()  # closing cancels a build still running in the daemon
    return BuilderProbe(outcome, ref, clock() - started, detail)


def _read_answer(
    answer: http.client.HTTPResponse,
    deadline: float,
    clock: Callable[[], float],
    conn: http.client.HTTPConnection,
) -> tuple[str, str]:
    if answer.status != 200:
        text = answer.read(4096).decode(errors="replace")
        return UNSUPPORTED, f"HTTP {answer.status}: {_message(text) or text.strip()[:200]}"
    while True:
        left = deadline - clock()
        if left <= 0:
            raise TimeoutError
        if conn.sock is not None:
            conn.sock.settimeout(left)
        line = answer.readline()
        if not line:
            return FAILED, "the build stream ended without a result"
        verdict = classify_message(line.decode(errors="replace"))
        if verdict is not None:
            return verdict


def classify_message(line: str) -> tuple[str, str] | None:
    """The probe's outcome from one JSON message of the /build stream, if it settles it."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    error = _stream_error(message)
    if error:
        if MARKER in error:
            return RESOLVED, "the base image resolved (the frontend reached the EXPOSE check)"
        return FAILED, error[:300]
    aux = message.get("aux")
    if message.get("id") == "moby.image.id" and isinstance(aux, dict):
        return RESOLVED, "the build finished"
    return None


def _stream_error(message: dict[str, Any]) -> str:
    detail = message.get("errorDetail")
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    return str(message.get("error") or "")


def _message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return _stream_error(data) or str(data.get("message") or "")
