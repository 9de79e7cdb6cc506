"""Real servers for registry tests: Debian's docker-registry, a blackhole, a closed port.

The helpers are imported by the other registry, mirrors and doctor tests; the tests
here prove each helper behaves as the others assume.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.testbed.procs import free_port, stop_process

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
needs_registry = pytest.mark.skipif(
    not Path(REGISTRY_BIN).exists(), reason="docker-registry (Debian package) not installed"
)


@contextlib.contextmanager
def blackhole() -> Iterator[str]:
    """A port that completes the TCP handshake (listen backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@dataclass
class Registry:
    url: str
    process: subprocess.Popen[bytes]
    root: Path


def _bcrypt(password: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


def _config(root: Path, port: int, auth: str | None, token_realm: str | None) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: error",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {root / 'data'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
    ]
    if auth == "htpasswd":
        (root / "htpasswd").write_text(f"ci:{_bcrypt('secret')}\n", "utf-8")
        lines += ["auth:", "  htpasswd:", "    realm: test", f"    path: {root / 'htpasswd'}"]
    elif auth == "silly":
        # "silly" challenges every request without an Authorization header with a
        # Bearer challenge and accepts any header: a real registry for the token flow.
        lines += ["auth:", "  silly:", f"    realm: {token_realm}", "    service: test-registry"]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def registry(
    tmp: Path, *, auth: str | None = None, token_realm: str | None = None
) -> Iterator[Registry]:
    """A real `docker-registry serve` on 127.0.0.1, up and answering /v2/."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = tmp / "config.yml"
    config.write_text(_config(tmp, port, auth, token_realm), "utf-8")
    log = (tmp / "registry.log").open("wb")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, proc)
        yield Registry(url=url, process=proc, root=tmp)
    finally:
        stop_process(proc)
        log.close()


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"{url}/v2/", timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("docker-registry did not come up")


def _request(
    method: str, url: str, body: bytes = b"", headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, data=body or None, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def _put_blob(url: str, name: str, data: bytes, headers: Mapping[str, str]) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, answer = _request("POST", f"{url}/v2/{name}/blobs/uploads/", headers=headers)
    assert status == 202, status
    location = answer["location"]
    if location.startswith("/"):
        location = url + location
    sep = "&" if "?" in location else "?"
    put_headers = {"Content-Type": "application/octet-stream", **headers}
    status, _ = _request("PUT", f"{location}{sep}digest={digest}", data, put_headers)
    assert status == 201, status
    return digest


def push_image(
    url: str, name: str = "library/busybox", tag: str = "latest", auth: str | None = None
) -> str:
    """Push a one-file image through the registry API; returns the manifest digest."""
    headers = {"Authorization": auth} if auth else {}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        payload = b"ci-guard test layer\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    config_digest = _put_blob(url, name, config, headers)
    layer_digest = _put_blob(url, name, layer, headers)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": layer_digest,
                }
            ],
        }
    ).encode()
    ctype = {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}
    status, answer = _request("PUT", f"{url}/v2/{name}/manifests/{tag}", manifest, ctype | headers)
    assert status == 201, status
    return answer["docker-content-digest"]


Reply = tuple[int, dict[str, str], bytes]


@contextlib.contextmanager
def canned_http(routes: Mapping[str, Reply]) -> Iterator[str]:
    """A tiny HTTP server answering fixed replies by path: only for answers a real
    registry cannot produce (wrong API version header, broken token JSON...)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self) -> None:
            path = self.path.split("?", 1)[0]
            status, headers, body = routes.get(path, (404, {}, b"not found"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = _reply

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_blackhole_accepts_and_never_answers() -> None:
    with blackhole() as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.settimeout(0.3)
            sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            with pytest.raises(TimeoutError):
                sock.recv(1)


def test_closed_port_refuses() -> None:
    port = int(closed_port_url().rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@needs_registry
def test_registry_serves_a_pushed_image(tmp_path: Path) -> None:
    with registry(tmp_path) as reg:
        digest = push_image(reg.url)
        status, headers = _request(
            "HEAD",
            f"{reg.url}/v2/library/busybox/manifests/latest",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
    assert status == 200
    assert headers["docker-content-digest"] == digest
