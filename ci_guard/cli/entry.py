"""The `ci-guard` executable: stop signals are held before anything else is imported.

Loading click and the command modules takes a few tens of milliseconds; a Ctrl-C or CI
cancel in that window must neither print a KeyboardInterrupt traceback nor be lost.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any


def main() -> Any:
    from ci_guard.supervise.cancel import catch_early_signals

    catch_early_signals()
    from ci_guard.cli.main import main as cli_main

    try:
        result = cli_main()
    except SystemExit as exc:
        _leave_abandoned_work(exc.code)
        raise
    _leave_abandoned_work(result)
    return result


def _leave_abandoned_work(code: object) -> None:
    """Exit at once when a cancelled worker still runs.

    Interpreter finalisation while a daemon thread is inside native code (the
    classifier's matcher) can abort the process with SIGABRT, which would replace the
    cancel's 130/143. Logs are closed by then; only stdio needs flushing.
    """
    from ci_guard.supervise.cancel import work_abandoned

    if not work_abandoned():
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stdio
            stream.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))
