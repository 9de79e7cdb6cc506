"""Jenkins: plain attempt markers in the console, and the dotenv file the step reads.

Jenkins has no log commands to speak of; the shared-library step (vars/ciGuard.groovy)
reads the dotenv file to return exitCode, attempts and failureClass.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from ci_guard.ci import common
from ci_guard.ci.dotenv import DotenvHooks
from ci_guard.durations import human_duration
from ci_guard.records import STATUS_SUCCEEDED, AttemptRecord, RetryRecord, RunRecord


class JenkinsHooks(DotenvHooks):
    def __init__(
        self, env: Mapping[str, str], stdout: TextIO, *, artifacts_dir: Path | None = None
    ) -> None:
        super().__init__(env, artifacts_dir)
        self.stdout = stdout

    def attempt_started(self, run: RunRecord, attempt: int) -> None:
        common.emit(self.stdout, f"----- {common.attempt_header(run, attempt)} -----\n")

    def attempt_finished(self, run: RunRecord, record: AttemptRecord) -> None:
        verdict = common.attempt_verdict(record)
        common.emit(self.stdout, f"\n----- ci-guard attempt {record.attempt}: {verdict} -----\n")

    def retry_scheduled(self, run: RunRecord, retry: RetryRecord) -> None:
        common.emit(
            self.stdout,
            f"ci-guard: retrying in {human_duration(retry.delay_s)} (remedy: {retry.remedy})\n",
        )

    def run_finished(self, run: RunRecord) -> None:
        if run.status != STATUS_SUCCEEDED:
            lines = [common.final_message(run), *common.evidence_lines(run.last_failure)]
            common.emit(self.stdout, "".join(f"{line}\n" for line in lines))
        super().run_finished(run)
