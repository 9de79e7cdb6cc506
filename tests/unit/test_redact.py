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


# -- the secret suite, names, key blocks, files -------------------------------------

from pathlib import Path  # noqa: E402

from ci_guard.redact import is_secret_env_name, secret_env_values  # noqa: E402
from ci_guard.redact_file import mask_file  # noqa: E402
from tests.leakcheck.shapes import SHAPES, Shape  # noqa: E402

SUITE_ENV = {name: value for shape in SHAPES for name, value in shape.env.items()}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.name)
def test_every_shape_is_masked_in_text_and_argv(shape: Shape) -> None:
    redactor = Redactor(env=SUITE_ENV)
    written = redactor.text(shape.line) + "\n" + " ".join(redactor.argv(shape.argv))
    for secret in shape.leaks:
        assert secret not in written
    assert MASK in written


@pytest.mark.parametrize(
    "name",
    [
        "DOCKER_PASS",
        "REGISTRY_PASS",
        "AZURE_STORAGE_SAS",
        "SENTRY_DSN",
        "SLACK_WEBHOOK_URL",
        "CI_JOB_TOKEN",
        "GITLAB_PAT",
        "MYSQL_PWD",
        "NPM_AUTH",
        "TLS_PRIVATE",
        "client-cert",
        "DB_CREDENTIALS",
        "APIKEY",
        "ghToken",
    ],
)
def test_secret_looking_names(name: str) -> None:
    assert is_secret_env_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "PATH",
        "PWD",
        "OLDPWD",
        "HOME",
        "GIT_AUTHOR_NAME",
        "SSH_AUTH_SOCK",
        "DOCKER_CERT_PATH",
        "KEYBOARD_LAYOUT",
        "PATHEXT",
        "LANG",
    ],
)
def test_ordinary_names(name: str) -> None:
    assert not is_secret_env_name(name)


def test_declared_names_and_globs_are_secret() -> None:
    env = {"BOUND_USER_SECRETISH": "x" * 3, "JENKINS_THING": "value-123", "OTHER": "value-456"}
    assert secret_env_values(env, ["JENKINS_*"]) == {"value-123"}
    assert Redactor(env={**env, "CI_GUARD_SECRET_ENV": "OTHER"}).text("value-456") == MASK


def test_multi_line_values_are_masked_line_by_line() -> None:
    value = "first-line-secret\nsecond-line-secret\nab\n"
    redactor = Redactor(env={"DEPLOY_KEY": value})
    assert redactor.text("x second-line-secret y") == f"x {MASK} y"
    assert redactor.text("ab") == "ab"  # too short to mask by value


def _key(lines: int = 4) -> tuple[str, list[str]]:
    body = [f"{n}" * 40 + "AbCd" for n in range(lines)]
    return "\n".join(
        ["-----BEGIN OPENSSH PRIVATE KEY-----", *body, "-----END OPENSSH PRIVATE KEY-----"]
    ), body


def test_private_key_body_lines_are_masked_markers_kept() -> None:
    key, body = _key()
    masked = Redactor(env={}).text(f"before\n{key}\nafter")
    assert all(line not in masked for line in body)
    assert masked.count(MASK) == len(body)
    assert "-----BEGIN OPENSSH PRIVATE KEY-----" in masked
    assert "after" in masked


def test_a_tail_that_starts_inside_a_key_is_masked_up_to_its_end() -> None:
    _, body = _key()
    text = "\n".join([*body[2:], "-----END RSA PRIVATE KEY-----", "after"])
    masked = Redactor(env={}).text(text)
    assert body[2] not in masked
    assert body[3] not in masked
    assert masked.endswith("after")


def test_mask_file_carries_a_key_across_blocks(tmp_path: Path) -> None:
    key, body = _key(200)
    source, target = tmp_path / "raw", tmp_path / "masked"
    raw = ("line before \xff\n" * 50 + key + "\nghp_" + "a" * 36 + "\nno newline").encode(
        "utf-8", "surrogateescape"
    )
    source.write_bytes(raw.replace(b"\xc3\xbf", b"\xff"))
    mask_file(source, target, Redactor(env={}), block=512)
    masked = target.read_bytes()
    assert all(line.encode() not in masked for line in body)
    assert b"ghp_" not in masked
    assert masked.count(b"\xff") == 50  # undecodable bytes pass through unchanged
    assert masked.endswith(b"no newline")


def test_plain_build_output_is_untouched() -> None:
    redactor = Redactor(env={"HOME": "/root", "GIT_AUTHOR_NAME": "Jane Doe Smith"})
    for line in [
        "Step 3/7 : RUN mkdir -p /app && apt-get install -y curl",
        "sha256:4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1",
        "npm WARN deprecated @babel/plugin@7.0.0: use something else",
        "docker run -p 8080:80 nginx",
        'ERROR: failed to compute cache key: "/app" not found',
        "Jane Doe Smith",
    ]:
        assert redactor.text(line) == line
