"""Where ci-guard's artifacts go, and whether a Docker build would copy them.

By default the folder is outside the working tree: inside it, `COPY . /app` puts the
attempt logs into the image and busts the layer cache on every run. GitLab uploads
artifacts only from inside the project, so its template copies the folder in after
the build (docs/ci-gitlab.md).
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ci_guard.errors import UsageError

RUN_LOG_NAME = "ci-guard.jsonl"
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
_BUILDERS = ("docker", "podman", "buildah", "nerdctl")
# Options of `docker build` that take a value (the build path is the other positional).
_BUILD_VALUE_OPTIONS = frozenset(
    (
        "-f",
        "--file",
        "-t",
        "--tag",
        "--build-arg",
        "--target",
        "--platform",
        "--network",
        "--progress",
        "--secret",
        "--ssh",
        "--cache-from",
        "--cache-to",
        "--label",
        "--iidfile",
        "--output",
        "-o",
        "--builder",
        "--add-host",
        "--build-context",
        "--shm-size",
        "--ulimit",
        "--metadata-file",
        "--attest",
        "--annotation",
    )
)


def default_artifacts_dir(platform: str, env: Mapping[str, str], cwd: Path) -> Path:
    """The platform's temporary folder, or a private one in the temp dir."""
    candidates: list[Path] = []
    if platform == "github" and env.get("RUNNER_TEMP"):
        candidates.append(Path(env["RUNNER_TEMP"]) / "ci-guard")
    if platform == "gitlab" and env.get("CI_BUILDS_DIR"):
        candidates.append(Path(env["CI_BUILDS_DIR"]) / ".ci-guard" / env.get("CI_JOB_ID", "job"))
    if platform == "jenkins":
        tmp = env.get("WORKSPACE_TMP") or (
            env["WORKSPACE"] + "@tmp" if env.get("WORKSPACE") else ""
        )
        if tmp:
            candidates.append(Path(tmp) / "ci-guard")
    for candidate in candidates:
        if not _inside(candidate, cwd):
            return candidate
    return _private_temp()


def run_log_path(artifacts_dir: Path, run_id: str) -> Path:
    """The run's JSON log, beside its attempt logs (`ci-guard report DIR` finds it)."""
    return artifacts_dir / run_id / RUN_LOG_NAME


def _private_temp() -> Path:
    """<tmp>/ci-guard-<uid>, mode 0700 and ours: other users must not read the logs."""
    uid = os.getuid()
    folder = Path(tempfile.gettempdir()) / f"ci-guard-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise UsageError(f"artifacts folder {folder}: cannot create: {exc.strerror}") from None
    if info.st_uid != uid or not folder.is_dir() or folder.is_symlink():
        raise UsageError(f"artifacts folder {folder}: belongs to someone else; set --artifacts-dir")
    return folder


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def build_contexts(argv: Sequence[str], cwd: Path) -> list[Path]:
    """Folders a build may send as its context: the working directory, the PATH of
    `docker build PATH`, and the build contexts of the compose files in use."""
    contexts = [cwd]
    words = [os.path.basename(arg) for arg in argv]
    for index, word in enumerate(words):
        if word in _BUILDERS or word == "buildx":
            contexts += _build_path(argv[index + 1 :], cwd)
        if word in ("compose", "docker-compose"):
            contexts += _compose_contexts(argv[index + 1 :], cwd)
    return contexts


def _build_path(args: Sequence[str], cwd: Path) -> list[Path]:
    if not args or args[0] not in ("build", "image"):
        return []
    rest = list(args[1:] if args[0] == "build" else args[2:])
    skip = False
    for arg in rest:
        if skip:
            skip = False
        elif arg in _BUILD_VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-") and "://" not in arg and arg != "-":
            return [cwd / arg]
    return []


def _compose_files(args: Sequence[str], cwd: Path) -> list[Path]:
    files = [cwd / args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("-f", "--file")]
    files += [cwd / arg.split("=", 1)[1] for arg in args if arg.startswith("--file=")]
    return files or [cwd / name for name in COMPOSE_FILES if (cwd / name).is_file()][:1]


def _compose_contexts(args: Sequence[str], cwd: Path) -> list[Path]:
    import yaml

    contexts = []
    for path in _compose_files(args, cwd):
        try:
            data: Any = yaml.safe_load(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        services = data.get("services") if isinstance(data, dict) else None
        for service in (services or {}).values():
            build = service.get("build") if isinstance(service, dict) else None
            context = build.get("context", ".") if isinstance(build, dict) else build
            if isinstance(context, str) and "://" not in context and not context.startswith("git@"):
                contexts.append(path.parent / os.path.expandvars(context))
    return contexts


def dockerignored(context: Path, relative: str) -> bool:
    """Whether the context's .dockerignore excludes `relative` (a folder path)."""
    try:
        lines = (context / ".dockerignore").read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    ignored = False
    for line in lines:
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        rule = rule.lstrip("!").strip("/").removeprefix("./")
        if fnmatch.fnmatchcase(relative, rule) or fnmatch.fnmatchcase(relative, rule + "/**"):
            ignored = not negate
    return ignored


def context_holding(artifacts: Path, argv: Sequence[str], cwd: Path) -> Path | None:
    """The first build context that would copy the artifacts folder, if any."""
    for context in build_contexts(argv, cwd):
        if not _inside(artifacts, context):
            continue
        relative = artifacts.resolve().relative_to(context.resolve()).as_posix()
        if relative in ("", ".") or not _first_part_ignored(context, relative):
            return context
    return None


def _first_part_ignored(context: Path, relative: str) -> bool:
    parts = relative.split("/")
    return any(dockerignored(context, "/".join(parts[: n + 1])) for n in range(len(parts)))
