"""The deferred asyncio import: free until used, then the real module, everywhere."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_logging_setup_does_not_execute_asyncio() -> None:
    out = run_python(
        """
        import sys
        import ci_guard.logs
        import asyncio
        print(type(sys.modules["asyncio"]).__name__, "asyncio.base_events" in sys.modules)
        """
    )
    assert out.split() == ["_Deferred", "False"]


def test_first_use_loads_the_real_module_for_every_holder() -> None:
    out = run_python(
        """
        import sys
        import ci_guard.logs
        import asyncio as early              # the stand-in
        import structlog

        async def answer():
            return 42

        print(early.run(answer()))           # first use: the real module loads
        import asyncio, asyncio.subprocess   # later imports get the real one
        same = early.Future is asyncio.Future
        print(type(asyncio).__name__, asyncio is sys.modules["asyncio"], same)

        async def log():
            await structlog.get_logger().ainfo("async.path")
        asyncio.run(log())
        print("ok")
        """
    )
    lines = out.splitlines()
    assert lines[0] == "42"
    assert lines[1] == "module True True"
    assert lines[-1] == "ok"
