from __future__ import annotations

import pytest

from ci_guard.redact import MASK, Redactor


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(env={"NPM_TOKEN": "s3cr3t-npm-value", "HOME": "/root", "MY_KEY": "abc"})


@pytest.mark.parametrize(
    ("raw", "leak"),
    [
        ("--build-arg NPM_TOKEN=abcdef123456", "abcdef123456"),
        ("https://bob:hunter2@registry.example.com/v2/", "hunter2"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        ("token ghp_" + "a" * 36 + " used", "ghp_" + "a" * 36),
        ("glpat-" + "x" * 20, "glpat-" + "x" * 20),
        ("dckr_pat_" + "Z" * 27, "dckr_pat_" + "Z" * 27),
        ("key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG"),
        ("echo s3cr3t-npm-value", "s3cr3t-npm-value"),
        ("docker login -p pa55word --username me", "pa55word"),
        ("docker login --password=pa55word", "pa55word"),
    ],
)
def test_secrets_never_survive(redactor: Redactor, raw: str, leak: str) -> None:
    masked = redactor.text(raw)
    assert leak not in masked
    assert MASK in masked


def test_plain_text_is_untouched(redactor: Redactor) -> None:
    line = "Step 3/7 : RUN apt-get update && apt-get install -y curl /root"
    assert redactor.text(line) == line


def test_short_env_values_are_not_masked_by_value(redactor: Redactor) -> None:
    assert redactor.text("abc def") == "abc def"


def test_argv_masks_value_after_password_flag(redactor: Redactor) -> None:
    argv = ["docker", "login", "-p", "plainpw", "--build-arg", "GITHUB_TOKEN=zzzzzzzz"]
    assert redactor.argv(argv) == [
        "docker",
        "login",
        "-p",
        MASK,
        "--build-arg",
        f"GITHUB_TOKEN={MASK}",
    ]


def test_nested_values(redactor: Redactor) -> None:
    value = {"command": ["curl", "https://u:p4ss@h/"], "n": 3, "deep": {"x": "s3cr3t-npm-value"}}
    masked = redactor.value(value)
    assert masked == {"command": ["curl", f"https://u:{MASK}@h/"], "n": 3, "deep": {"x": MASK}}
