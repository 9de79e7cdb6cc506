"""Run a command inside a private network namespace that holds only loopback.

`python -m tests.testbed.netns_exec CMD ARGS...` creates the namespace (once), brings
`lo` up, and replaces itself with `nsenter --net=... CMD ARGS...`. Everything the
command starts (dockerd, registries, fault proxies, ci-guard itself) can then reach
127.0.0.1 and nothing else, so no test sends a packet beyond loopback.

`nsenter --net=` is used rather than `ip netns exec`, which remounts /sys and makes
dockerd fail with "Devices cgroup isn't mounted".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

NETNS = os.environ.get("CI_GUARD_TEST_NETNS", "ci-guard-test")
NETNS_PATH = f"/var/run/netns/{NETNS}"
IN_NETNS_MARK = "CI_GUARD_IN_TEST_NETNS"


def ensure_namespace() -> None:
    if not os.path.exists(NETNS_PATH):
        subprocess.run(["ip", "netns", "add", NETNS], check=True, capture_output=True)
    subprocess.run(
        ["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"],
        check=True,
        capture_output=True,
    )


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tests.testbed.netns_exec CMD [ARGS...]", file=sys.stderr)
        return 2
    if os.environ.get(IN_NETNS_MARK) == NETNS:
        os.execvp(argv[0], argv)
    if os.geteuid() != 0 or shutil.which("nsenter") is None or shutil.which("ip") is None:
        print(
            "netns_exec: needs root, ip and nsenter; running without a private network "
            "namespace (Docker test-bed tests will skip)",
            file=sys.stderr,
        )
        os.execvp(argv[0], argv)
    try:
        ensure_namespace()
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        reason = detail.decode(errors="replace").strip() or str(exc)
        print(
            f"netns_exec: cannot set up network namespace {NETNS} ({reason}); running without it "
            "(Docker test-bed tests will skip, or fail under CI=true)",
            file=sys.stderr,
        )
        os.execvp(argv[0], argv)
    os.environ[IN_NETNS_MARK] = NETNS
    os.execvp("nsenter", ["nsenter", f"--net={NETNS_PATH}", "--", *argv])
    return 127  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
