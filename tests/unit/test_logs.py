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


def test_console_compacts_preflight_checks() -> None:
    stream = io.StringIO()
    logs.configure(log_format="console", stream=stream, redactor=Redactor(env={}))
    checks = [
        {"name": "dns:hub", "ok": False, "severity": "error", "detail": "does not resolve"},
        {"name": "disk", "ok": True, "severity": "info", "detail": "fine"},
    ]
    logs.get_logger(run_id="r").warning("preflight.finished", checks=checks, healthy=False)
    text = stream.getvalue()
    assert "1/2 ok; dns:hub: does not resolve" in text
    assert "{" not in text
