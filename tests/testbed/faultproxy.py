"""A TCP proxy on 127.0.0.1 whose fault can be switched while it runs.

The kernel here has no netem qdisc, so network faults are made in user space: the
proxy sits in front of a registry (or anything on TCP) and, per connection, either
forwards bytes or misbehaves the way real networks and registries do.

Modes (`Fault.mode`):
  pass       forward both ways
  blackhole  accept, read and drop everything, never answer
  refuse     stop listening: connecting gets "connection refused"
  reset      read the first bytes, then answer with a TCP RST (SO_LINGER 0)
  delay      wait `delay_s` seconds, then forward
  slow       forward, upstream -> client at `bytes_per_s`
  truncate   forward, close after `truncate_after` bytes upstream -> client
  http429    answer every request with 429 plus Retry-After and ratelimit headers
  http503    answer every request with 503 Service Unavailable
`fail_next=N` applies the mode to the next N connections only, then the proxy
passes again (a transient fault).

Control: in-process with `FaultProxy.set_fault`, from another process through a
small HTTP endpoint (`GET/PUT /fault`, `GET /stats`), see `set_remote_fault` and the
command line: `python -m tests.testbed.faultproxy serve|set|get ...`.
Every thread is a daemon thread and `stop()` closes every socket, so a proxy never
outlives its owner.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, fields, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.testbed.procs import free_port

MODES = (
    "pass",
    "blackhole",
    "refuse",
    "reset",
    "delay",
    "slow",
    "truncate",
    "http429",
    "http503",
)
_HTTP_MODES = {"http429": (429, "Too Many Requests"), "http503": (503, "Service Unavailable")}
# A blackholed connection is held at most this long, so no thread waits forever.
BLACKHOLE_HOLD_S = 600.0
_CHUNK = 65536


class FaultError(ValueError):
    """A fault description that makes no sense."""


@dataclass(frozen=True)
class Fault:
    mode: str = "pass"
    delay_s: float = 0.0
    bytes_per_s: int = 1024
    truncate_after: int = 0
    retry_after_s: int = 60
    fail_next: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise FaultError(f"unknown fault mode {self.mode!r} (one of {', '.join(MODES)})")
        if self.delay_s < 0 or self.bytes_per_s <= 0 or self.truncate_after < 0:
            raise FaultError("delay_s, truncate_after must be >= 0 and bytes_per_s > 0")
        if self.fail_next < 0:
            raise FaultError("fail_next must be >= 0")
        if self.mode == "refuse" and self.fail_next:
            raise FaultError("refuse cannot count connections: it does not accept them")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise FaultError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise FaultError(str(exc)) from exc


def http_fault_response(status: int, reason: str, retry_after_s: int, head_only: bool) -> bytes:
    """The answer of a registry that is rate limiting (429) or down (503)."""
    if status == 429:
        code, message = "TOOMANYREQUESTS", "You have reached your pull rate limit."
    else:
        code, message = "UNAVAILABLE", "service unavailable"
    body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
    headers = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Docker-Distribution-Api-Version: registry/2.0",
        f"Retry-After: {retry_after_s}",
        "Connection: close",
    ]
    if status == 429:
        headers += ["RateLimit-Limit: 100;w=21600", "RateLimit-Remaining: 0;w=21600"]
    head = ("\r\n".join(headers) + "\r\n\r\n").encode()
    return head if head_only else head + body


class FaultProxy:
    """Forward 127.0.0.1:port to target, applying the current Fault to each connection."""

    def __init__(
        self,
        target: tuple[str, int],
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        fault: Fault | None = None,
        control_port: int | None = None,
    ) -> None:
        self.target = target
        self.host = host
        self.port = port
        self._fault = fault or Fault()
        self._want_control = control_port
        self.control_port: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._changed = threading.Event()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._control: ThreadingHTTPServer | None = None
        self.stats: Counter[str] = Counter()

    # -- public API -------------------------------------------------------------------
    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def control_url(self) -> str | None:
        return None if self.control_port is None else f"http://{self.host}:{self.control_port}"

    @property
    def fault(self) -> Fault:
        with self._lock:
            return self._fault

    def set_fault(self, fault: Fault | str = "pass", **params: Any) -> Fault:
        new = Fault(mode=fault, **params) if isinstance(fault, str) else replace(fault, **params)
        with self._lock:
            self._fault = new
        self._changed.set()
        return new

    def start(self) -> FaultProxy:
        if self._fault.mode != "refuse":
            self._listen()
        else:
            # Reserve a port number now so that the address is known before listening.
            self.port = self.port or free_port(self.host)
        self._spawn(self._accept_loop)
        if self._want_control is not None:
            self._start_control(self._want_control)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
        self._close_listener()
        with self._lock:
            live = list(self._sockets)
        for sock in live:
            _close(sock)
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- listening ----------------------------------------------------------------------
    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.settimeout(0.2)
        self.port = sock.getsockname()[1]
        self._listener = sock

    def _close_listener(self) -> None:
        if self._listener is not None:
            _close(self._listener)
            self._listener = None

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            refusing = self.fault.mode == "refuse"
            if refusing and self._listener is not None:
                self._close_listener()
            elif not refusing and self._listener is None:
                self._listen()
            if self._listener is None:
                self._changed.wait(0.2)
                self._changed.clear()
                continue
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self._spawn(self._serve, client, self._take_fault())

    def _take_fault(self) -> Fault:
        """The fault for one new connection; counts down a `fail_next` budget."""
        with self._lock:
            fault = self._fault
            if fault.fail_next:
                left = fault.fail_next - 1
                self._fault = replace(fault, fail_next=left) if left else Fault()
            self.stats[fault.mode] += 1
            self.stats["connections"] += 1
            return fault

    # -- per-connection behaviour -------------------------------------------------------
    def _serve(self, client: socket.socket, fault: Fault) -> None:
        self._track(client)
        try:
            handler = {
                "blackhole": self._blackhole,
                "reset": self._reset,
                "http429": self._http_answer,
                "http503": self._http_answer,
            }.get(fault.mode, self._forward)
            handler(client, fault)
        except OSError:
            pass
        finally:
            self._untrack(client)
            _close(client)

    def _blackhole(self, client: socket.socket, fault: Fault) -> None:
        deadline = time.monotonic() + BLACKHOLE_HOLD_S
        while not self._stop.is_set() and time.monotonic() < deadline:
            ready, _, _ = select.select([client], [], [], 0.2)
            if ready and not client.recv(_CHUNK):
                return

    def _reset(self, client: socket.socket, fault: Fault) -> None:
        # Wait for the request so the client sees the reset on its read.
        select.select([client], [], [], 2.0)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _http_answer(self, client: socket.socket, fault: Fault) -> None:
        status, reason = _HTTP_MODES[fault.mode]
        request = _read_request_head(client)
        head_only = request.startswith(b"HEAD ")
        client.sendall(http_fault_response(status, reason, fault.retry_after_s, head_only))
        client.shutdown(socket.SHUT_WR)
        _drain(client, 1.0)

    def _forward(self, client: socket.socket, fault: Fault) -> None:
        if fault.mode == "delay" and self._stop.wait(fault.delay_s):
            return
        upstream = socket.create_connection(self.target, timeout=10)
        upstream.settimeout(None)
        self._track(upstream)
        try:
            back = self._spawn(self._pump, upstream, client, fault)
            self._pump(client, upstream, Fault())
            back.join()
        finally:
            self._untrack(upstream)
            _close(upstream)

    def _pump(self, src: socket.socket, dst: socket.socket, fault: Fault) -> None:
        """Copy src -> dst, shaped by a slow or truncate fault, until EOF or error."""
        sent = 0
        try:
            while not self._stop.is_set():
                size = max(1, fault.bytes_per_s // 10) if fault.mode == "slow" else _CHUNK
                if fault.mode == "truncate":
                    size = min(size, fault.truncate_after - sent)
                    if size <= 0:
                        break
                data = src.recv(size)
                if not data:
                    break
                dst.sendall(data)
                sent += len(data)
                if fault.mode == "slow":
                    self._stop.wait(len(data) / fault.bytes_per_s)
        except OSError:
            pass
        finally:
            # After a truncation both sides go down, so the client sees an early EOF.
            how = socket.SHUT_RDWR if fault.mode == "truncate" else socket.SHUT_WR
            with contextlib.suppress(OSError):
                dst.shutdown(how)
            if fault.mode == "truncate":
                with contextlib.suppress(OSError):
                    src.shutdown(socket.SHUT_RDWR)

    # -- bookkeeping ----------------------------------------------------------------------
    def _spawn(self, target: Any, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        return thread

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    # -- control endpoint -------------------------------------------------------------------
    def _start_control(self, port: int) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/fault":
                    self._reply(200, proxy.fault.to_json())
                elif self.path == "/stats":
                    self._reply(200, dict(proxy.stats))
                else:
                    self._reply(404, {"error": "try /fault or /stats"})

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    fault = Fault.from_json(json.loads(self.rfile.read(length) or b"{}"))
                except (FaultError, ValueError) as exc:
                    self._reply(400, {"error": str(exc)})
                    return
                self._reply(200, proxy.set_fault(fault).to_json())

            do_POST = do_PUT

        self._control = ThreadingHTTPServer((self.host, port), Handler)
        self._control.daemon_threads = True
        self.control_port = self._control.server_address[1]
        self._spawn(self._control.serve_forever)


# -- helpers ------------------------------------------------------------------------------
def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def _read_request_head(client: socket.socket, limit: int = 16384) -> bytes:
    client.settimeout(5)
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data and len(data) < limit:
            chunk = client.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


def _drain(client: socket.socket, seconds: float) -> None:
    client.settimeout(seconds)
    with contextlib.suppress(OSError):
        while client.recv(4096):
            pass


def _opener() -> urllib.request.OpenerDirector:
    # The control endpoint is on loopback: never route it through an HTTP proxy.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def set_remote_fault(control_url: str, fault: Fault) -> Fault:
    """Switch the fault of a proxy running in another process."""
    request = urllib.request.Request(
        f"{control_url}/fault",
        data=json.dumps(fault.to_json()).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with _opener().open(request, timeout=10) as answer:
        return Fault.from_json(json.loads(answer.read()))


def get_remote(control_url: str, what: str = "fault") -> dict[str, Any]:
    with _opener().open(f"{control_url}/{what}", timeout=10) as answer:
        data: dict[str, Any] = json.loads(answer.read())
        return data


# -- command line -------------------------------------------------------------------------
def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _fault_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=MODES, default="pass")
    parser.add_argument("--delay", dest="delay_s", type=float, default=0.0)
    parser.add_argument("--bytes-per-s", type=int, default=1024)
    parser.add_argument("--truncate-after", type=int, default=0)
    parser.add_argument("--retry-after", dest="retry_after_s", type=int, default=60)
    parser.add_argument("--fail-next", type=int, default=0)


def _fault_from(ns: argparse.Namespace) -> Fault:
    keys = ("mode", "delay_s", "bytes_per_s", "truncate_after", "retry_after_s", "fail_next")
    return Fault(**{key: getattr(ns, key) for key in keys})


def _serve(ns: argparse.Namespace) -> int:
    proxy = FaultProxy(
        ns.target, port=ns.port, fault=_fault_from(ns), control_port=ns.control_port
    ).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(
        json.dumps({"listen": proxy.address, "control": proxy.control_url}),
        flush=True,
    )
    stop.wait(ns.max_seconds)
    proxy.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.faultproxy")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a proxy until SIGTERM (or --max-seconds)")
    serve.add_argument("--target", type=_host_port, required=True)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--control-port", type=int, default=0)
    serve.add_argument("--max-seconds", type=float, default=3600.0)
    _fault_args(serve)
    setter = sub.add_parser("set", help="switch the fault of a running proxy")
    setter.add_argument("control_url")
    _fault_args(setter)
    getter = sub.add_parser("get", help="print a running proxy's fault or stats")
    getter.add_argument("control_url")
    getter.add_argument("what", choices=("fault", "stats"), nargs="?", default="fault")
    ns = parser.parse_args(argv)
    try:
        if ns.command == "serve":
            return _serve(ns)
        if ns.command == "set":
            print(json.dumps(set_remote_fault(ns.control_url, _fault_from(ns)).to_json()))
        else:
            print(json.dumps(get_remote(ns.control_url, ns.what)))
    except (FaultError, OSError) as exc:
        print(f"faultproxy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
