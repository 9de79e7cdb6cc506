"""Load a standard-library module only when something first uses it.

structlog imports asyncio for its async logging methods, which ci-guard never calls,
and asyncio (with ssl and socket support behind it) costs a sixth of the start-up time
of `ci-guard run`. `defer("asyncio")` registers a stand-in module: `import asyncio`
returns it at no cost, and its first attribute access imports the real module, puts it
in `sys.modules` and answers from it. importlib's LazyLoader cannot do this on Python
3.11: the import statement itself reads `__spec__`, which makes LazyLoader load.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.Lock()


class _Deferred(types.ModuleType):
    """Stands in for a module until its first use (only missing names reach here)."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self.__name__), attr)


def _load(name: str) -> types.ModuleType:
    with _lock:
        if isinstance(sys.modules.get(name), _Deferred):
            del sys.modules[name]
        return importlib.import_module(name)


def defer(name: str) -> None:
    """Register a stand-in for `name`, unless it is imported already or does not exist."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in
