"""supervise() against real processes: `python -c` children, grandchildren, signals."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import psutil
import pytest

from ci_guard.supervise.cancel import CancelToken
from ci_guard.supervise.supervisor import ProcessResult, supervise

REPO = Path(__file__).resolve().parents[2]
STOP = int(signal.SIGSTOP)
GRACE = 0.5

# A process that ignores SIGTERM, prints its pid on the inherited stdout, then sleeps.
STUBBORN = (
    "import os, signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "if 'setsid' in sys.argv: os.setsid()\n"
    "os.write(1, b'PID %d\\n' % os.getpid())\n"  # one write: strays print at once
    "time.sleep(120)\n"
)


def py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code), *args]


def spawner(*grandchild_args: str, then: str = "time.sleep(120)") -> list[str]:
    """A child that starts STUBBORN as a grandchild, says 'ready' once it runs, then `then`."""
    code = f"""
        import subprocess, sys, time
        kid = subprocess.Popen([sys.executable, '-c', {STUBBORN!r}, *{list(grandchild_args)!r}],
                               stdout=subprocess.PIPE)
        line = kid.stdout.readline()
        sys.stdout.write(line.decode()); print('ready', flush=True)
        {then}
    """
    return py(code)


class Sinks:
    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.err = io.BytesIO()


def run(argv: list[str], sinks: Sinks | None = None, **kwargs: Any) -> ProcessResult:
    sinks = sinks or Sinks()
    kwargs.setdefault("timeout", 60.0)
    kwargs.setdefault("kill_grace", GRACE)
    return supervise(argv, stdout=sinks.out, stderr=sinks.err, **kwargs)


def pids_in(text: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"PID (\d+)", text)]


def assert_gone(pids: list[int]) -> None:
    assert pids, "the test child printed no pid"
    left = [pid for pid in pids if psutil.pid_exists(pid)]
    assert left == [], f"processes left behind: {left}"


# --- output -------------------------------------------------------------------------


def test_stdout_passes_byte_exact_and_into_the_log(tmp_path: Path) -> None:
    data = b"step 1\n10%\r50%\r100%\nbinary \xff\xfe\x00 end\nno newline at the end"
    code = f"import sys; sys.stdout.buffer.write({data!r}); sys.stdout.flush()"
    sinks = Sinks()
    log = tmp_path / "deep" / "dir" / "attempt-1.log"
    result = run(py(code), sinks, log_path=log)
    assert result.exit_code == 0
    assert sinks.out.getvalue() == data
    assert sinks.err.getvalue() == b""
    assert log.read_bytes() == data
    assert result.log_path == log
    assert result.tail[-3:] == ("100%", "binary \ufffd\ufffd\x00 end", "no newline at the end")


def test_stderr_is_separate_and_log_holds_both(tmp_path: Path) -> None:
    code = (
        "import sys; sys.stdout.write('to out\\n'); sys.stdout.flush(); sys.stderr.write('to err')"
    )
    sinks = Sinks()
    result = run(py(code), sinks, log_path=tmp_path / "a.log")
    assert sinks.out.getvalue() == b"to out\n"
    assert sinks.err.getvalue() == b"to err"
    assert (tmp_path / "a.log").read_bytes() in (b"to out\nto err", b"to errto out\n")
    assert set(result.tail) == {"to out", "to err"}


def test_output_streams_while_the_child_runs(tmp_path: Path) -> None:
    # The child waits for a file that the sink creates when the first line reaches it:
    # output held back until the child exits would leave it waiting until its deadline.
    flag = tmp_path / "seen"

    class Watcher(io.BytesIO):
        def write(self, data: Any) -> int:
            if b"first" in data:
                flag.touch()
            return super().write(data)

    code = f"""
        import os, sys, time
        sys.stdout.write('first'); sys.stdout.flush()
        while not os.path.exists({str(flag)!r}):
            time.sleep(0.01)
        print(' then the rest')
    """
    sinks = Sinks()
    sinks.out = Watcher()
    result = run(py(code), sinks, timeout=30)
    assert (result.exit_code, result.timed_out) == (0, False)
    assert sinks.out.getvalue() == b"first then the rest\n"


@pytest.mark.parametrize("code", [0, 1, 3, 42])
def test_exit_code_passes_through(code: int) -> None:
    result = run(py(f"import sys; sys.exit({code})"))
    assert (result.exit_code, result.signal, result.timed_out) == (code, None, False)
    assert result.spawn_error is None
    assert result.killed_pids == ()


def test_tail_holds_the_last_lines() -> None:
    code = "for i in range(5000): print('line', i)"
    result = run(py(code), tail_lines=3)
    assert result.tail == ("line 4997", "line 4998", "line 4999")


def test_memory_stays_flat_for_large_output() -> None:
    code = """
        import sys
        chunk = (b'x' * 99 + b'\\n') * 10000
        for _ in range(50):
            sys.stdout.buffer.write(chunk)
    """
    with open(os.devnull, "wb") as null:
        tracemalloc.start()
        try:
            result = supervise(py(code), timeout=60, stdout=null, stderr=null, tail_lines=10)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.exit_code == 0
    assert result.tail == ("x" * 99,) * 10
    assert peak < 8 * 1024 * 1024  # 50 MB went through


def test_a_closed_reader_does_not_stop_the_log(tmp_path: Path) -> None:
    class Broken(io.BytesIO):
        def write(self, data: Any) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    sinks = Sinks()
    sinks.out = Broken()
    result = run(py("print('still logged')"), sinks, log_path=tmp_path / "a.log")
    assert result.exit_code == 0
    assert (tmp_path / "a.log").read_bytes() == b"still logged\n"


def test_env_and_cwd_reach_the_child(tmp_path: Path) -> None:
    code = "import os; print(os.getcwd()); print(os.environ['GREETING'])"
    sinks = Sinks()
    env = {**os.environ, "GREETING": "hello"}
    result = run(py(code), sinks, env=env, cwd=tmp_path)
    assert result.exit_code == 0
    assert sinks.out.getvalue().decode().split() == [str(tmp_path.resolve()), "hello"]


# --- how the child ended ---------------------------------------------------------------


def test_child_killed_by_signal_reports_it() -> None:
    result = run(py("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    assert (result.exit_code, result.signal, result.timed_out) == (137, 9, False)


def test_missing_program_is_127() -> None:
    result = run(["docker-compse", "build"])
    assert result.exit_code == 127
    assert result.spawn_error == "docker-compse: command not found"


def test_directory_is_126(tmp_path: Path) -> None:
    result = run([str(tmp_path)])
    assert result.exit_code == 126
    assert result.spawn_error == f"{tmp_path}: Is a directory"


# --- deadlines and the process tree -------------------------------------------------------


@pytest.mark.parametrize("mode", ["same-session", "setsid"])
def test_deadline_ends_a_term_ignoring_grandchild(mode: str) -> None:
    sinks = Sinks()
    result = run(spawner(mode), sinks, timeout=2.0)
    pids = pids_in(sinks.out.getvalue().decode())
    assert b"ready" in sinks.out.getvalue()
    assert (result.exit_code, result.timed_out, result.no_output_timed_out) == (124, True, False)
    assert set(pids) <= set(result.killed_pids)
    assert_gone(pids)


def test_deadline_ends_a_double_forked_daemon() -> None:
    # The middle process starts the daemon and exits at once: the daemon is an orphan in
    # its own session before any periodic scan could see it as a descendant.
    middle = f"""
        import subprocess, sys
        subprocess.Popen([sys.executable, '-c', {STUBBORN!r}, 'setsid'])
    """
    code = f"""
        import subprocess, sys, time
        subprocess.run([sys.executable, '-c', {textwrap.dedent(middle)!r}])
        time.sleep(120)
    """
    sinks = Sinks()
    result = run(py(code), sinks, timeout=2.0)
    pids = pids_in(sinks.out.getvalue().decode())
    assert result.exit_code == 124
    assert result.timed_out
    assert set(pids) <= set(result.killed_pids)
    assert_gone(pids)


def test_deadline_ends_a_stopped_child() -> None:
    # A stopped process acts on SIGTERM only once continued: without SIGCONT after the
    # TERM it would wait out the whole grace and die of SIGKILL.
    sinks = Sinks()
    code = f"import os; print('PID', os.getpid(), flush=True); os.kill(os.getpid(), {STOP})"
    result = run(py(code), sinks, timeout=1.0, kill_grace=60)
    assert (result.exit_code, result.timed_out, result.signal) == (124, True, signal.SIGTERM)
    assert_gone(pids_in(sinks.out.getvalue().decode()))


def test_no_output_deadline_fires_on_a_silent_child() -> None:
    result = run(py("print('one line', flush=True); import time; time.sleep(120)"),
                 no_output_timeout=0.5)  # fmt: skip
    assert (result.exit_code, result.no_output_timed_out, result.timed_out) == (124, True, False)
    assert result.signal == signal.SIGTERM
    assert result.tail == ("one line",)


def test_no_output_deadline_spares_a_chatty_child() -> None:
    code = "import time\nfor i in range(30):\n    print(i, flush=True); time.sleep(0.1)"
    result = run(py(code), no_output_timeout=2.0)
    assert (result.exit_code, result.no_output_timed_out, result.timed_out) == (0, False, False)
    assert result.tail[-1] == "29"


def test_stray_background_process_of_a_successful_child_is_ended(tmp_path: Path) -> None:
    # One stray keeps the output pipe open, one does not: neither may outlive the attempt.
    # The child exits only once both strays have printed their pids (a file each says so).
    ready = tmp_path / "ready"
    stray = STUBBORN.replace(
        "time.sleep(120)", f"open({str(ready)!r} + str(os.getpid()), 'w').close(); time.sleep(120)"
    )
    code = f"""
        import glob, subprocess, sys, time
        subprocess.Popen([sys.executable, '-c', {stray!r}])
        subprocess.Popen([sys.executable, '-c', {stray!r}, 'setsid'])
        deadline = time.monotonic() + 60
        while len(glob.glob({str(ready)!r} + '*')) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    """
    sinks = Sinks()
    result = run(py(code), sinks)
    pids = pids_in(sinks.out.getvalue().decode())
    assert len(pids) == 2
    assert (result.exit_code, result.timed_out, result.signal) == (0, False, None)
    assert set(pids) == set(result.killed_pids)
    assert_gone(pids)


# --- cancel --------------------------------------------------------------------------------


class ReadySink(io.BytesIO):
    """Sets `ready` once the child has printed 'ready' (so a canceller need not sleep)."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()

    def write(self, data: Any) -> int:
        written = super().write(data)
        if b"ready" in self.getvalue():
            self.ready.set()
        return written


def test_cancel_from_another_thread_ends_the_tree() -> None:
    token = CancelToken()
    sinks = Sinks()
    sink = ReadySink()
    sinks.out = sink

    def cancel_when_ready() -> None:
        if sink.ready.wait(30):
            token.cancel(signal.SIGTERM)

    canceller = threading.Thread(target=cancel_when_ready)
    canceller.start()
    try:
        result = run(spawner("setsid"), sinks, cancel=token)
    finally:
        canceller.join()
        token.close()
    pids = pids_in(sink.getvalue().decode())
    assert (result.exit_code, result.cancelled_by, result.timed_out) == (143, 15, False)
    assert set(pids) <= set(result.killed_pids)
    assert_gone(pids)


def test_a_second_cancel_skips_the_grace() -> None:
    token = CancelToken()
    sinks = Sinks()
    sink = ReadySink()
    sinks.out = sink

    def cancel_twice() -> None:
        if sink.ready.wait(30):
            token.cancel(signal.SIGINT)
            token.cancel(signal.SIGINT)

    canceller = threading.Thread(target=cancel_twice)
    canceller.start()
    try:
        result = run(spawner(), sinks, cancel=token, kill_grace=120.0)
    finally:
        canceller.join()
        token.close()
    assert (result.exit_code, result.cancelled_by) == (130, signal.SIGINT)
    assert result.duration_s < 120  # loose sanity: the grandchild ignores SIGTERM
    assert_gone(pids_in(sink.getvalue().decode()))


def test_cancelled_token_starts_nothing() -> None:
    token = CancelToken()
    token.cancel(signal.SIGHUP)
    sinks = Sinks()
    result = run(py("print('should not run')"), sinks, cancel=token)
    token.close()
    assert (result.exit_code, result.cancelled_by) == (128 + signal.SIGHUP, signal.SIGHUP)
    assert sinks.out.getvalue() == b""


SCRIPT = """
import json, sys
from ci_guard.supervise.cancel import CancelToken, install_signal_handlers
from ci_guard.supervise.supervisor import supervise

token = CancelToken()
restore = install_signal_handlers(token)
result = supervise(sys.argv[1:], timeout=60, kill_grace=0.5, cancel=token)
restore()
print(json.dumps({"exit_code": result.exit_code, "cancelled_by": result.cancelled_by,
                  "killed": list(result.killed_pids)}), flush=True)
sys.exit(result.exit_code)
"""


def test_real_sigterm_to_a_supervising_process_ends_the_tree(tmp_path: Path) -> None:
    script = tmp_path / "guard.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    guard = subprocess.Popen(
        [sys.executable, str(script), *spawner("setsid")],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert guard.stdout is not None
    lines: list[str] = []
    for raw in guard.stdout:  # the child's output streams through the guard unchanged
        lines.append(raw.decode().strip())
        if lines[-1] == "ready":
            guard.send_signal(signal.SIGTERM)
    assert guard.wait(60) == 143
    report = json.loads(lines[-1])
    pids = pids_in("\n".join(lines))
    assert report["exit_code"] == 143
    assert report["cancelled_by"] == signal.SIGTERM
    assert set(pids) <= set(report["killed"])
    assert_gone(pids)
