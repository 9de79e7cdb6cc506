"""CancelToken, the signal handlers that set it, and the subreaper flag."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from ci_guard.supervise.cancel import (
    Cancelled,
    CancelToken,
    call_cancellable,
    install_signal_handlers,
)
from ci_guard.supervise.proctree import is_subreaper, subreaper


@pytest.fixture
def token() -> Iterator[CancelToken]:
    tok = CancelToken()
    yield tok
    tok.close()


def readable(tok: CancelToken) -> bool:
    ready, _, _ = select.select([tok.fileno()], [], [], 0)
    return bool(ready)


def test_first_signal_wins_and_cancels_are_counted(token: CancelToken) -> None:
    assert (token.signum, token.count, readable(token)) == (None, 0, False)
    token.cancel(signal.SIGTERM)
    token.cancel(signal.SIGINT)
    assert (token.signum, token.count) == (signal.SIGTERM, 2)
    assert type(token.signum) is int


def test_cancel_wakes_a_selector_until_cleared(token: CancelToken) -> None:
    token.cancel(signal.SIGINT)
    assert readable(token)
    token.clear_wakeups()
    assert not readable(token)
    assert token.signum == signal.SIGINT  # clearing the wake-ups keeps the state


def test_cancel_from_many_threads(token: CancelToken) -> None:
    threads = [threading.Thread(target=token.cancel, args=(signal.SIGHUP,)) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (token.signum, token.count) == (signal.SIGHUP, 50)


def test_many_cancels_never_block(token: CancelToken) -> None:
    for _ in range(100_000):  # far more than a pipe holds
        token.cancel(signal.SIGTERM)
    assert token.count == 100_000


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_handlers_set_the_token_and_restore(token: CancelToken, signum: int) -> None:
    before = signal.getsignal(signum)
    restore = install_signal_handlers(token)
    try:
        os.kill(os.getpid(), signum)
        assert token.signum == signum
        assert readable(token)
    finally:
        restore()
    assert signal.getsignal(signum) == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_subreaper_only_while_held() -> None:
    before = is_subreaper()
    with subreaper() as outer:
        assert outer
        with subreaper() as inner:  # nested attempts (threads) share the flag
            assert inner
        assert is_subreaper()
    assert is_subreaper() == before


def test_call_cancellable_returns_the_result_and_raises_the_error(token: CancelToken) -> None:
    assert call_cancellable(lambda: 42, token) == 42
    with pytest.raises(ZeroDivisionError):
        call_cancellable(lambda: 1 // 0, token)


def test_call_cancellable_gives_way_to_a_cancel(token: CancelToken) -> None:
    release = threading.Event()
    timer = threading.Timer(0.1, token.cancel, args=(signal.SIGTERM,))
    timer.start()
    with pytest.raises(Cancelled) as caught:
        call_cancellable(lambda: release.wait(60), token)
    release.set()
    assert caught.value.signum == signal.SIGTERM


def test_call_cancellable_does_not_start_after_a_cancel(token: CancelToken) -> None:
    token.cancel(signal.SIGINT)
    started: list[bool] = []
    with pytest.raises(Cancelled):
        call_cancellable(lambda: started.append(True), token)
    assert started == []


def test_early_signals_are_held_then_released_to_the_old_handlers() -> None:
    # a child process: the handlers of the test process itself stay as they are
    code = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"  # as under nohup
        "from ci_guard.supervise import cancel\n"
        "token = cancel.catch_early_signals()\n"
        "os.kill(os.getpid(), signal.SIGHUP)\n"
        "assert token.signum == signal.SIGHUP and cancel.process_token() is token\n"
        "cancel.release_early_signals()\n"  # SIGHUP delivered again: ignored, as before
        "assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN\n"
        "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler\n"
        "cancel.catch_early_signals()\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "try:\n"
        "    cancel.release_early_signals()\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(7)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (7, "")
