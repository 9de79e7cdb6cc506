"""docs/transcripts.md from the record `python -m tests.testbed.transcripts` saved.

Pure: the record (tests/testbed/transcripts.json) holds what the real runs printed and
wrote; this turns it into Markdown. Control characters are shown as `\\e` and `\\r` so
GitLab's section markers stay visible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "transcripts.md"
RECORD = Path(__file__).with_name("transcripts.json")
_VISIBLE = {"\x1b": "\\e", "\r": "\\r"}
_LONG = 400


def load_record() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORD.read_text(encoding="utf-8"))
    return data


def visible(text: str) -> str:
    for raw, shown in _VISIBLE.items():
        text = text.replace(raw, shown)
    return text


def fence(text: str, lang: str = "") -> list[str]:
    body = visible(text).rstrip("\n")
    return [f"```{lang}", body if body else "(empty)", "```", ""]


def _clip(line: str) -> str:
    if len(line) <= _LONG:
        return line
    return f"{line[:_LONG]} …({len(line) - _LONG} more characters)"


def render_run(number: int, run: dict[str, Any]) -> list[str]:
    env = "\n".join(f"{key}={value}" for key, value in run["env"].items())
    lines = [
        f"## {number}. {run['title']}",
        "",
        run["story"],
        "",
        "The CI variables set (besides the sandbox's DOCKER_HOST and DOCKER_CONFIG):",
        "",
        *fence(env),
        "In the project folder:",
        "",
        *fence("$ ci-guard " + " ".join(run["argv"]), "console"),
        f"Exit code: **{run['exit_code']}**.",
        "",
        "### stderr",
        "",
        *fence(run["stderr"]),
        "### stdout",
        "",
        *fence(run["stdout"]),
    ]
    for item in run["files"]:
        lines += [f"### {item['label']} (`{item['path']}`)", "", *fence(item["text"])]
    head = [_clip(line) for line in run["log_head"]]
    lines += [f"### The first {len(head)} lines of the JSON log", "", *fence("\n".join(head))]
    return lines


def render(data: dict[str, Any]) -> str:
    lines = [
        "# Transcripts: a failing and recovering run, as GitHub Actions and GitLab CI show it",
        "",
        f"<!-- Generated on {data['generated']} by `{data['command']}`;",
        "     do not edit: rerun the command (a unit test checks this page against its",
        "     record, tests/testbed/transcripts.json). -->",
        "",
        "Real runs of `ci-guard run -- docker compose build` on the test bed (a private",
        "dockerd in a loopback-only network namespace, local registries and a fault proxy;",
        "see [demo.md](demo.md)), each with the environment a CI platform sets. Nothing",
        "below is written by hand: it is what ci-guard printed and wrote, with temporary",
        "folders shortened to `/tmp/ci` (the runs' files) and `/tmp/bed` (the sandbox).",
        "In GitLab's output `\\e` is the escape character and `\\r` a carriage return.",
        "Lines of the JSON log longer than 400 characters are cut.",
        "",
        "The daemon.json of the sandbox lists two dead mirrors, a healthy pull-through",
        "mirror behind a fault proxy, and Docker Hub; before each run dockerd restarts",
        "with that file and holds no image and no build cache. The options besides",
        "`-- docker compose build` only pace the runs (a 60 s deadline per attempt, short",
        "waits) and keep the records the CI templates keep.",
        "",
    ]
    for number, run in enumerate(data["runs"], 1):
        lines += render_run(number, run)
    return "\n".join(lines).rstrip("\n") + "\n"
