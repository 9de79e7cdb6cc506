from __future__ import annotations

import io
import json
from pathlib import Path

from ci_guard import logs
from ci_guard.redact import Redactor


def test_json_lines_to_file_and_stream_with_required_fields(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "run.jsonl"
    handle = logs.open_log_file(path)
    stream = io.StringIO()
    logs.configure(log_format="json", log_file=handle, stream=stream, redactor=Redactor(env={}))
    logs.get_logger(run_id="r-1").info("attempt.started", attempt=1, log_path=tmp_path)
    handle.close()
    line = json.loads(path.read_text())
    assert list(line)[:4] == ["timestamp", "level", "event", "run_id"]
    assert line["timestamp"].endswith("Z")
    assert (line["level"], line["event"], line["run_id"]) == ("info", "attempt.started", "r-1")
    assert line["log_path"] == str(tmp_path)
    assert json.loads(stream.getvalue()) == line


def test_secrets_are_masked_in_every_field(tmp_path: Path) -> None:
    stream = io.StringIO()
    logs.configure(
        log_format="json", stream=stream, redactor=Redactor(env={"A_TOKEN": "tok-123456"})
    )
    logs.get_logger(run_id="r").info("x", evidence=["pull https://u:pw@h/ tok-123456"])
    line = json.loads(stream.getvalue())
    assert line["evidence"] == ["pull https://u:***@h/ ***"]


def test_console_says_the_failed_preflight_check_in_one_line() -> None:
    stream = io.StringIO()
    logs.configure(log_format="console", stream=stream, redactor=Redactor(env={}))
    checks = [
        {"name": "dns:hub", "ok": False, "severity": "error", "detail": "does not resolve"},
        {"name": "disk", "ok": True, "severity": "info", "detail": "fine"},
    ]
    logs.get_logger(run_id="r").warning("preflight.finished", checks=checks, healthy=False)
    text = stream.getvalue()
    assert text == "ci-guard: preflight finished: unhealthy: dns:hub: does not resolve\n"


def test_console_lines_are_masked_like_the_json_log(tmp_path: Path) -> None:
    stream = io.StringIO()
    with (tmp_path / "log.jsonl").open("w") as handle:
        env = {"A_TOKEN": "tok-123456"}
        logs.configure(log_format="console", log_file=handle, stream=stream, redactor=Redactor(env))
        log = logs.get_logger(run_id="r")
        log.info("run.started", command=["curl", "-u", "bob:tok-123456", "https://h/"])
        log.info("attempt.started", attempt=1, max_attempts=2)
    text = stream.getvalue()
    assert text == "ci-guard: attempt 1/2 started: curl -u 'bob:***' https://h/\n"
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["event"] for e in logged] == ["run.started", "attempt.started"]
    assert "tok-123456" not in json.dumps(logged)
