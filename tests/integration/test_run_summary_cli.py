"""The summary `ci-guard run` prints at its end, from real runs: outputs that cannot be
written, a cancel in the middle of a long wait, time lost, failed remedies, advice.

Each test runs the real `ci-guard run` as a process and reads its stderr (the summary)
and its JSON log (`run.finished`), and checks that both say the same.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

DNS_FAILURE = "dial tcp: lookup registry-1.docker.io: Temporary failure in name resolution"
DAEMON_DOWN = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?"
)


def failing(line: str, code: int = 1) -> list[str]:
    return ["sh", "-c", f'echo "{line}"; exit {code}']


def argv(tmp_path: Path, *options: str) -> list[str]:
    return [
        sys.executable, "-m", "ci_guard", "run", "--no-preflight",
        "--artifacts-dir", str(tmp_path / "art"), "--log-file", str(tmp_path / "run.jsonl"),
        *options,
    ]  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without CI variables (no platform hooks) and without DOCKER_HOST."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI", "GITHUB", "GITLAB"))}
    env.pop("DOCKER_HOST", None)
    env.pop("JENKINS_URL", None)
    return {**env, **extra}


def run(
    tmp_path: Path,
    *options: str,
    prefix: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    done = subprocess.run(
        [*(prefix or []), *argv(tmp_path, *options)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env=env or clean_env(), stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    return done, events(tmp_path)


def events(tmp_path: Path) -> list[dict[str, Any]]:
    log = tmp_path / "run.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def named(evts: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in evts if e["event"] == name]


def summary(stderr: str) -> list[str]:
    """The summary: from its `ci-guard: STATUS` head line to the end of stderr."""
    lines = [line for line in stderr.splitlines() if not line.startswith("{")]
    heads = [i for i, line in enumerate(lines) if line.startswith("ci-guard: ")]
    assert heads, stderr
    return lines[heads[-1] :]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def read_only(folder: Path) -> list[str]:
    """A prefix that runs the command with `folder` read-only: a read-only bind mount in a
    mount namespace of its own for root (who may write any folder), else mode 0555."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        pytest.skip("unshare is needed to make a folder read-only for root")
    script = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(folder)]


# -- outputs not written ----------------------------------------------------------------------


def test_outputs_not_written_are_listed_with_their_reason_and_keep_the_exit_code(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    prefix = read_only(folder)
    gateway = f"http://127.0.0.1:{closed_port()}"
    dotenv_folder = tmp_path / "dotenv-is-a-folder"
    dotenv_folder.mkdir()
    done, evts = run(
        tmp_path, "--max-attempts", "1", "--junit", str(tmp_path),
        "--metrics-file", str(folder / "metrics.prom"), "--pushgateway", gateway,
        "--", *failing(DNS_FAILURE, code=7),
        prefix=prefix, env=clean_env(CI_GUARD_DOTENV=str(dotenv_folder)),
    )  # fmt: skip

    assert done.returncode == 7, done.stderr
    (line,) = [line for line in summary(done.stderr) if line.startswith("  outputs not written:")]
    failed = {e["output"]: e for e in named(evts, "output.failed")}
    assert set(failed) == {"junit", "metrics-file", "pushgateway"}
    assert f"junit {tmp_path}: is a folder" in line
    assert f"metrics-file {folder / 'metrics.prom'}: " in line
    assert "Read-only file system" in line or "Permission denied" in line
    assert f"pushgateway {gateway}: Connection refused" in line
    assert "dotenv (run_finished): " in line
    assert str(dotenv_folder) in line
    assert not (folder / "metrics.prom").exists()


def test_outputs_that_were_written_are_not_mentioned(tmp_path: Path) -> None:
    done, _ = run(
        tmp_path, "--junit", str(tmp_path / "j.xml"), "--metrics-file", str(tmp_path / "m.prom"),
        "--", "true",
    )  # fmt: skip
    assert done.returncode == 0
    assert summary(done.stderr) == [
        summary(done.stderr)[0],
        f"  log: {tmp_path / 'run.jsonl'}",
    ]
    assert summary(done.stderr)[0].startswith("ci-guard: succeeded on attempt 1/5 in ")


# -- time lost to retries ------------------------------------------------------------------------


def finished_of(evts: list[dict[str, Any]]) -> dict[str, Any]:
    (finished,) = named(evts, "run.finished")
    return finished


def test_a_single_failed_attempt_lost_no_time_and_says_what_to_do(tmp_path: Path) -> None:
    done, evts = run(tmp_path, "--max-attempts", "1", "--", *failing(DNS_FAILURE))
    assert done.returncode == 1
    finished = finished_of(evts)
    assert (finished["lost_attempts_s"], finished["lost_waits_s"], finished["lost_remedies_s"]) == (
        0.0, 0.0, 0.0,
    )  # fmt: skip
    lines = summary(done.stderr)
    assert not any("time lost" in line for line in lines)
    assert lines[1] == "  failures: dns_failure x1"
    assert any(
        line.startswith("  what to do: Check /etc/resolv.conf and the daemon's `dns` setting")
        for line in lines
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_cancel_during_a_long_wait_counts_only_the_time_really_waited(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    options = ("--max-attempts", "3", "--backoff-initial", "300", "--backoff-max", "300")
    proc = subprocess.Popen(
        argv(tmp_path, *options, "--", *failing(DNS_FAILURE)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=clean_env(),
    )  # fmt: skip
    for _ in range(600):  # the wait has begun once the retry is logged
        if named(events(tmp_path), "retry.scheduled"):
            break
        time.sleep(0.05)
    time.sleep(1.0)  # well into the wait
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == code, stderr
    evts = events(tmp_path)
    (scheduled,) = named(evts, "retry.scheduled")
    (attempt,) = named(evts, "attempt.finished")
    finished = finished_of(evts)
    assert finished["status"] == "cancelled"
    assert finished["lost_attempts_s"] == 0.0  # no attempt followed the failed one
    assert finished["lost_remedies_s"] == 0.0
    waited = finished["lost_waits_s"]
    assert 0 < waited < scheduled["delay_s"]  # the time waited, not the planned wait
    assert waited <= finished["duration_s"] - attempt["duration_s"]
    (line,) = [line for line in summary(stderr) if "time lost to retries" in line]
    assert line.endswith(" (waits " + line.split(": ", 1)[1].split(" (", 1)[0] + ")")
    assert "Traceback" not in stderr


def test_time_lost_after_a_retry_that_succeeded_is_the_failed_attempt_and_the_wait(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "failed-once"
    flaky = f'[ -e {marker} ] && exit 0; touch {marker}; echo "{DNS_FAILURE}"; exit 1'
    done, evts = run(
        tmp_path, "--backoff-initial", "0.3", "--backoff-max", "0.3", "--", "sh", "-c", flaky
    )
    assert done.returncode == 0, done.stderr
    finished = finished_of(evts)
    first, _ = named(evts, "attempt.finished")
    (scheduled,) = named(evts, "retry.scheduled")
    assert finished["lost_attempts_s"] == first["duration_s"]
    assert finished["lost_waits_s"] >= scheduled["delay_s"]  # a wait is never cut short
    lost = sum(finished[f"lost_{part}_s"] for part in ("attempts", "waits", "remedies"))
    assert lost <= finished["duration_s"]
    lines = summary(done.stderr)
    assert lines[0].startswith("ci-guard: succeeded on attempt 2/5 in ")
    assert any(line.startswith("  time lost to retries: ") for line in lines)
    assert not any("what to do" in line for line in lines)


# -- remedies that failed -----------------------------------------------------------------------


def test_a_failed_remedy_says_why_with_its_secrets_masked(tmp_path: Path) -> None:
    secret = "s3cr3t-restart-token-5521"
    socket_path = tmp_path / "no-daemon.sock"
    restart = "sh -c 'echo \"restart refused for token $RESTART_TOKEN\" >&2; exit 3'"
    done, evts = run(
        tmp_path, "--max-attempts", "2", "--ladder", "retry,restart-daemon",
        "--backoff-initial", "0", "--backoff-max", "0", "--restart-command", restart,
        "--", *failing(DAEMON_DOWN),
        env=clean_env(RESTART_TOKEN=secret, DOCKER_HOST=f"unix://{socket_path}"),
    )  # fmt: skip

    assert done.returncode == 1, done.stderr
    (remedy,) = named(evts, "remedy.finished")
    assert remedy["remedy"] == "restart-daemon"
    assert remedy["ok"] is False
    lines = summary(done.stderr)
    assert "  remedies: restart-daemon (failed)" in lines
    (why,) = [
        line for line in lines if line.startswith("    restart-daemon after attempt 1 failed:")
    ]
    assert "restart refused for token ***" in why
    assert not any("changed on the host" in line for line in lines)  # it restarted nothing
    assert secret not in done.stderr


def test_a_pushgateway_password_never_reaches_the_summary(tmp_path: Path) -> None:
    password = "gw-pass-73310fa"
    port = closed_port()
    done, evts = run(
        tmp_path, "--pushgateway", f"http://ci:{password}@127.0.0.1:{port}", "--", "true"
    )
    assert done.returncode == 0
    (failed,) = named(evts, "output.failed")
    assert failed["output"] == "pushgateway"
    (line,) = [line for line in summary(done.stderr) if "outputs not written" in line]
    assert line == (
        f"  outputs not written: pushgateway http://ci:***@127.0.0.1:{port}: "
        f"cannot push metrics to http://127.0.0.1:{port}: Connection refused"
    )
    assert password not in done.stderr
