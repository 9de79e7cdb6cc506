"""A large build log of real-shaped, varied output for the classifier benchmark.

A repeated block of a dozen lines flatters the classifier: few of its lines hold a
rule keyword. Real build output is varied and full of the rules' words ("run",
"image", "found", "status", "request", "connection", "error", "timeout") in lines
that are no failure at all. This log mixes:

- every line of the cited corpus (tests/corpus/) that no rule matches: real BuildKit,
  legacy builder, compose, apt, pip, npm, go and CI output around failures;
- generated step output (BuildKit step headers and timings, apt, pip, npm, go, gcc,
  pytest, compose) with varied package names, versions, paths and test names.

The generator is seeded, so the same size and seed give the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from ci_guard.classify.evidence import clean_line
from ci_guard.classify.rules import RuleSet, load_rules
from tests.corpus_loader import corpus

PACKAGES = (
    "libssl3",
    "ca-certificates",
    "libpython3.11-stdlib",
    "build-essential",
    "curl",
    "git",
    "libpq-dev",
    "zlib1g-dev",
    "libffi-dev",
    "openssh-client",
    "tzdata",
    "libcurl4",
    "gnupg",
    "procps",
    "netbase",
    "libxml2",
    "libyaml-0-2",
    "unzip",
)
PYPI = (
    "requests",
    "urllib3",
    "idna",
    "certifi",
    "charset-normalizer",
    "django",
    "flask",
    "numpy",
    "pandas",
    "pytest",
    "sqlalchemy",
    "psycopg2-binary",
    "gunicorn",
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "pyyaml",
    "click",
    "rich",
    "httpx",
    "anyio",
)
NPM = (
    "react",
    "react-dom",
    "webpack",
    "babel-loader",
    "eslint",
    "typescript",
    "axios",
    "lodash",
    "express",
    "jest",
    "request",
    "node-fetch",
    "chokidar",
    "glob",
    "rimraf",
)
GO = (
    "github.com/spf13/cobra",
    "golang.org/x/net",
    "google.golang.org/grpc",
    "github.com/stretchr/testify",
    "go.uber.org/zap",
    "github.com/docker/docker",
)
TESTS = (
    "test_connection_timeout",
    "test_image_not_found_returns_404",
    "test_retry_on_error",
    "test_request_status_code",
    "test_run_process",
    "test_network_reset",
    "test_denied",
    "test_dns_lookup_failure_is_reported",
    "test_eof_handling",
    "test_memory_limit",
)
SERVICES = ("web", "worker", "api", "db-migrate", "frontend", "scheduler")

# Each template is filled with fresh values: {s} step, {t} seconds, {n} number, {v}
# version, {p} apt package, {y} PyPI project, {j} npm package, {g} Go module,
# {x} test name, {c} compose service, {h} hex digest.
TEMPLATES = (
    "#{s} {t:.3f} Get:{n} http://deb.debian.org/debian bookworm/main amd64 {p} amd64 {v} [{n} kB]",
    "#{s} {t:.3f} Unpacking {p}:amd64 ({v}) ...",
    "#{s} {t:.3f} Setting up {p} ({v}) ...",
    "#{s} {t:.3f} Selecting previously unselected package {p}.",
    "#{s} {t:.3f} Preparing to unpack .../{n}-{p}_{v}_amd64.deb ...",
    "#{s} {t:.3f} Fetched {n} kB in {t:.0f}s ({n} kB/s)",
    "#{s} {t:.3f} Reading package lists...",
    "#{s} {t:.3f} debconf: delaying package configuration, since apt-utils is not installed",
    "#{s} {t:.3f} Collecting {y}=={v} (from -r requirements.txt (line {n}))",
    "#{s} {t:.3f}   Downloading {y}-{v}-py3-none-any.whl ({n} kB)",
    "#{s} {t:.3f} Requirement already satisfied: {y} in /usr/local/lib/python3.11/site-packages",
    "#{s} {t:.3f} Successfully installed {y}-{v} {y}-{v}",
    "#{s} {t:.3f} npm WARN deprecated {j}@{v}: this package is no longer supported",
    "#{s} {t:.3f} added {n} packages, and audited {n} packages in {t:.0f}s",
    "#{s} {t:.3f} found 0 vulnerabilities",
    "#{s} {t:.3f} go: downloading {g} v{v}",
    "#{s} {t:.3f} gcc -O2 -Wall -fPIC -c src/{y}_{n}.c -o build/{y}_{n}.o",
    "#{s} {t:.3f} src/{y}_{n}.c:{n}:5: warning: unused variable 'status' [-Wunused-variable]",
    "#{s} {t:.3f} tests/test_{y}.py::{x} PASSED [{n}%]",
    "#{s} {t:.3f} ok  \t{g}/internal/{y}\t{t:.3f}s",
    "#{s} {t:.3f} INFO  the request completed with status 200 in {n}ms (run {n})",
    "#{s} [{c} {n}/9] RUN pip install --no-cache-dir -r requirements.txt",
    "#{s} [{c} {n}/9] COPY . /app",
    "#{s} resolve docker.io/library/python:3.11-slim@sha256:{h} done",
    "#{s} sha256:{h} {n}MB / {n}MB {t:.1f}s done",
    "#{s} [internal] load metadata for docker.io/library/node:{n}-alpine",
    "#{s} DONE {t:.1f}s",
    "#{s} CACHED",
    "#{s} exporting layers {t:.1f}s done",
    "#{s} writing image sha256:{h} done",
    "#{s} naming to docker.io/library/{c}:latest done",
    " => [{c} {n}/9] RUN npm ci                                            {t:.1f}s",
    "\x1b[32m ✔ \x1b[0mContainer app-{c}-{n}  \x1b[32mStarted\x1b[0m      {t:.1f}s",
    " Network app_default  Created",
    " Image {c} Building",
    "{c} Pulling from library/{c}",
    "2024-05-10T11:19:{n:02d}.{n}Z #{s} DONE {t:.1f}s",
)


def quiet_corpus_lines(rules: RuleSet | None = None) -> list[str]:
    """Lines of the cited corpus that no rule matches: real output, not failures."""
    ruleset = rules if rules is not None else load_rules()
    seen: set[str] = set()
    quiet = []
    for message in corpus():
        for line in message.text.splitlines():
            text = clean_line(line)
            if not text or line in seen:
                continue
            seen.add(line)
            if not any(rule.regex.search(text) for rule in ruleset.rules):
                quiet.append(line)
    return quiet


def _generated(rng: random.Random) -> str:
    template = TEMPLATES[rng.randrange(len(TEMPLATES))]
    return template.format(
        s=rng.randint(2, 40),
        t=rng.uniform(0, 900),
        n=rng.randint(1, 99),
        v=f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}",
        p=rng.choice(PACKAGES),
        y=rng.choice(PYPI),
        j=rng.choice(NPM),
        g=rng.choice(GO),
        x=rng.choice(TESTS),
        c=rng.choice(SERVICES),
        h=f"{rng.getrandbits(256):064x}",
    )


def lines(seed: int = 3) -> Iterator[str]:
    """Endless varied lines: one corpus line in eight, generated output otherwise."""
    rng = random.Random(seed)
    quiet = quiet_corpus_lines()
    while True:
        if rng.randrange(8) == 0:
            yield quiet[rng.randrange(len(quiet))]
        else:
            yield _generated(rng)


def write(path: Path, size: int, tail: str, seed: int = 3) -> None:
    """At least `size` bytes of varied lines, then `tail` (the real failure)."""
    written = 0
    batch: list[str] = []
    with path.open("wb") as out:
        for line in lines(seed):
            batch.append(line)
            if len(batch) == 4096:
                data = ("\n".join(batch) + "\n").encode("utf-8")
                out.write(data)
                written += len(data)
                batch.clear()
                if written >= size:
                    break
        out.write(tail.encode("utf-8"))
