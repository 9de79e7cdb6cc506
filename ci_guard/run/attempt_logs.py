"""Attempt logs: what the command printed, masked before it reaches the artifacts folder.

The output streams to a private spool file (mode 0600, in a 0700 temp folder, never
the artifacts folder) at full speed; once the attempt has ended and been classified,
a masked copy goes to `<artifacts>/<run id>/attempt-N.log` and the spool is removed.
With raw logs asked for, the output goes straight to the artifacts folder, unmasked.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ci_guard.redact import Redactor
from ci_guard.redact_file import mask_file


class AttemptLogs:
    def __init__(self, artifacts_dir: Path, run_id: str, redactor: Redactor | None) -> None:
        self.folder = artifacts_dir / run_id
        self.redactor = redactor
        self._spool: Path | None = None

    def final_path(self, attempt: int) -> Path:
        return self.folder / f"attempt-{attempt}.log"

    def write_path(self, attempt: int) -> Path:
        """Where the attempt's output is written while it runs."""
        if self.redactor is None:
            return self.final_path(attempt)
        if self._spool is None:
            self._spool = Path(tempfile.mkdtemp(prefix="ci-guard-spool-"))
        return self._spool / f"attempt-{attempt}.log"

    def publish(self, attempt: int, written: Path | None) -> Path | None:
        """The masked log in the artifacts folder (None when nothing was written)."""
        if self.redactor is None or written is None:
            return written
        target = self.final_path(attempt)
        try:
            if written.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                mask_file(written, target, self.redactor)
                return target
            return None
        except OSError:
            return None
        finally:
            written.unlink(missing_ok=True)

    def close(self) -> None:
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None
