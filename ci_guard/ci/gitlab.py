"""GitLab CI: a collapsible log section per attempt, and the dotenv report.

Markers follow GitLab's job-log format:
`\\e[0Ksection_start:<unix ts>:<name>[collapsed=true]\\r\\e[0K<header>` and
`\\e[0Ksection_end:<unix ts>:<name>\\r\\e[0K`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from ci_guard.ci import common
from ci_guard.ci.dotenv import DotenvHooks
from ci_guard.durations import human_duration
from ci_guard.records import STATUS_SUCCEEDED, AttemptRecord, RetryRecord, RunRecord

ESC_CLEAR = "\x1b[0K"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
YELLOW, RED, RESET = "\x1b[33;1m", "\x1b[31;1m", "\x1b[0m"


def section_name(run: RunRecord, attempt: int) -> str:
    """Unique in the job even when ci-guard runs twice: the run id is part of it."""
    return _NAME_UNSAFE.sub("_", f"ci_guard_{run.run_id}_attempt_{attempt}")


def section_start(name: str, header: str, timestamp: int, *, collapsed: bool = True) -> str:
    option = "[collapsed=true]" if collapsed else ""
    return f"{ESC_CLEAR}section_start:{timestamp}:{name}{option}\r{ESC_CLEAR}{header}\n"


def section_end(name: str, timestamp: int) -> str:
    return f"{ESC_CLEAR}section_end:{timestamp}:{name}\r{ESC_CLEAR}\n"


class GitLabHooks(DotenvHooks):
    def __init__(
        self,
        env: Mapping[str, str],
        stdout: TextIO,
        *,
        artifacts_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(env, artifacts_dir)
        self.stdout = stdout
        self.clock = clock
        # GitLab's log renders colour though it is no terminal; NO_COLOR still means none.
        self.colour = not env.get("NO_COLOR")

    def _paint(self, colour: str, line: str) -> str:
        return f"{colour}{line}{RESET}\n" if self.colour else f"{line}\n"

    def attempt_started(self, run: RunRecord, attempt: int) -> None:
        header = common.attempt_header(run, attempt)
        name = section_name(run, attempt)
        common.emit(self.stdout, section_start(name, header, int(self.clock())))

    def attempt_finished(self, run: RunRecord, record: AttemptRecord) -> None:
        name = section_name(run, record.attempt)
        verdict = f"ci-guard attempt {record.attempt}: {common.attempt_verdict(record)}\n"
        # The child's last line may lack a newline; a section marker must start a line.
        common.emit(self.stdout, "\n" + section_end(name, int(self.clock())) + verdict)

    def retry_scheduled(self, run: RunRecord, retry: RetryRecord) -> None:
        failure = run.attempts[-1].failure if run.attempts else None
        name = failure.failure_class.value if failure else "unknown"
        text = (
            f"ci-guard: attempt {retry.attempt}/{run.max_attempts} failed with {name}; "
            f"retrying in {human_duration(retry.delay_s)} (remedy: {retry.remedy})"
        )
        common.emit(self.stdout, self._paint(YELLOW, text))

    def run_finished(self, run: RunRecord) -> None:
        if run.status != STATUS_SUCCEEDED:
            lines = [common.final_message(run), *common.evidence_lines(run.last_failure)]
            common.emit(self.stdout, "".join(self._paint(RED, line) for line in lines))
        super().run_finished(run)
