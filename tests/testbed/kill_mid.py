"""A build with its daemon killed under it: the one way both capture scripts crash dockerd."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Mapping, Sequence

from tests.testbed.bed import TestBed
from tests.testbed.procs import wait_until


def output_across_a_daemon_kill(
    bed: TestBed, argv: Sequence[str], env: Mapping[str, str], what: str
) -> tuple[str, int]:
    """Run argv; once its output shows "step-started" (`what` names that step), SIGKILL
    dockerd, let the client end, start dockerd again. The client's output and exit code."""
    proc = subprocess.Popen(
        list(argv),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.extend(proc.stdout or []), daemon=True)
    reader.start()
    wait_until(lambda: "step-started" in "".join(chunks), 120, what)
    time.sleep(1)
    bed.dockerd.kill()
    proc.wait(timeout=120)
    reader.join(timeout=10)
    bed.dockerd.start()
    return "".join(chunks), proc.returncode
