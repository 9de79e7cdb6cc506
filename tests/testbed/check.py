"""Can the Docker test bed run here? Root, the binaries, and a loopback-only namespace.

The interface list comes from /proc/self/net/dev, which follows the network namespace
of this process. /sys/class/net does not: `nsenter --net` keeps the host's sysfs
mount, which still lists the host's interfaces.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.testbed.client import DOCKER

REQUIRED_TOOLS = ("dockerd", "containerd", "runc", "docker-registry", "mount", "umount")


def netns_interfaces() -> list[str]:
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)


def loopback_up() -> bool:
    done = subprocess.run(
        ["ip", "-o", "link", "show", "lo"], capture_output=True, text=True, check=False
    )
    flags = done.stdout.split("<", 1)[-1].split(">", 1)[0].split(",")
    return done.returncode == 0 and "UP" in flags


def bed_unavailable_reason() -> str | None:
    """Why the test bed cannot start here, or None when it can."""
    if os.geteuid() != 0:
        return "the Docker test bed needs root (dockerd, mounts, network namespaces)"
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if not Path(DOCKER).exists():
        missing.append(DOCKER)
    if not Path("/bin/busybox").exists():
        missing.append("/bin/busybox (busybox-static)")
    if shutil.which("ip") is None:
        missing.append("ip (iproute2)")
    if missing:
        return f"the Docker test bed needs {', '.join(missing)} (run `make deps`)"
    interfaces = netns_interfaces()
    if interfaces != ["lo"]:
        return (
            "not inside a loopback-only network namespace (interfaces: "
            f"{', '.join(interfaces)}); run pytest under `python -m tests.testbed.netns_exec`"
        )
    if not loopback_up():
        return "loopback is down in this network namespace"
    return None
