"""The `ci-guard` executable: stop signals are held before anything else is imported.

Loading click and the command modules takes a few tens of milliseconds; a Ctrl-C or CI
cancel in that window must neither print a KeyboardInterrupt traceback nor be lost.
"""

from __future__ import annotations

from typing import Any


def main() -> Any:
    from ci_guard.supervise.cancel import catch_early_signals

    catch_early_signals()
    from ci_guard.cli.main import main as cli_main

    return cli_main()
