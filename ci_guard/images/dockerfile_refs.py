"""The base images a Dockerfile pulls: FROM lines (and COPY --from=IMAGE), resolved.

Follows the Dockerfile rules that decide what is pulled: parser directives (escape),
line continuations, global ARGs before the first FROM with their defaults (overridden
by build args), `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` substitution, `--platform`,
stage aliases (`FROM build` names an earlier stage, not an image) and `scratch`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ci_guard.errors import UsageError

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<word>[^}]*)\}"
                  r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")  # fmt: skip
# BuildKit fills these in itself; an image using them is resolved per build, not here.
AUTOMATIC_ARGS = frozenset(
    {"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
     "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT"}
)  # fmt: skip


@dataclass(frozen=True)
class FoundImage:
    image: str
    """As written after substitution, e.g. "python:3.11-slim"."""
    platform: str | None
    source: str
    """Where it was found: "Dockerfile:3"."""


@dataclass
class DockerfileRefs:
    images: list[FoundImage] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    """FROM lines whose image depends on a value only the build knows, one sentence each."""


@dataclass(frozen=True)
class _Instruction:
    line: int
    keyword: str
    rest: str


def logical_lines(text: str) -> list[_Instruction]:
    """Instructions with continuations joined and comments dropped, with their line number."""
    escape = "\\"
    lines = text.splitlines()
    start = 0
    for start, raw in enumerate(lines):  # noqa: B007 - start is used after the loop
        match = _DIRECTIVE.match(raw.strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
    else:
        start = len(lines)
    out: list[_Instruction] = []
    parts: list[str] = []
    first = 0
    for number, raw in enumerate(lines[start:], start=start + 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and parts):
            continue  # comment lines (and blank ones) inside a continuation vanish
        if not parts:
            first = number
        body = raw.rstrip()
        if body.endswith(escape):
            parts.append(body[: -len(escape)])
            continue
        parts.append(body)
        joined = " ".join(part.strip() for part in parts).strip()
        parts = []
        if joined:
            keyword, _, rest = joined.partition(" ")
            out.append(_Instruction(first, keyword.upper(), rest.strip()))
    if parts:
        joined = " ".join(part.strip() for part in parts).strip()
        keyword, _, rest = joined.partition(" ")
        out.append(_Instruction(first, keyword.upper(), rest.strip()))
    return out


def substitute(text: str, values: dict[str, str | None]) -> tuple[str, set[str]]:
    """Expand $VAR / ${VAR} / ${VAR:-word} / ${VAR:+word}; also returns the names left unset."""
    missing: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        op, word = match.group("op"), match.group("word") or ""
        value = values.get(name)
        if op in (":-", "-"):
            unset = value is None or (op == ":-" and value == "")
            return word if unset else str(value)
        if op in (":+", "+"):
            unset = value is None or (op == ":+" and value == "")
            return "" if unset else word
        if value is None:
            missing.add(name)
            return ""
        return value

    escaped = text.replace("\\$", "\0")
    return _VAR.sub(replace, escaped).replace("\0", "$"), missing


def _arg_pairs(rest: str) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    for word in words:
        name, sep, value = word.partition("=")
        pairs.append((name, value if sep else None))
    return pairs


def _split_from(rest: str) -> tuple[str | None, str, str | None]:
    """(platform, image, alias) of a FROM line's arguments."""
    words = rest.split()
    platform = None
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.startswith("--platform="):
            platform = flag.split("=", 1)[1]
    image = words[0] if words else ""
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return platform, image, alias


@dataclass
class _Stage:
    alias: str | None
    images: list[FoundImage] = field(default_factory=list)
    needs: set[int] = field(default_factory=set)
    """Earlier stages this one builds on (FROM stage, COPY --from=stage)."""


@dataclass
class _Parse:
    refs: DockerfileRefs
    args: dict[str, str | None]
    contexts: Mapping[str, str | None]
    stages: list[_Stage] = field(default_factory=list)

    def stage_index(self, name: str) -> int | None:
        """The earlier stage `name` (alias or number) refers to, if any."""
        if name.isdigit():
            return int(name) if int(name) < len(self.stages) else None
        aliases = [stage.alias for stage in self.stages]
        return aliases.index(name.lower()) if name.lower() in aliases else None

    def use(self, stage: _Stage, name: str, platform: str | None, where: str) -> None:
        """Record what `name` (a FROM or COPY --from target) makes `stage` pull."""
        earlier = self.stage_index(name)
        if earlier is not None:
            stage.needs.add(earlier)
        elif name in self.contexts:
            image = self.contexts[name]  # a named build context replaces the reference
            if image:
                stage.images.append(FoundImage(image, platform, f"{where} (context {name})"))
        elif name.lower() != "scratch":
            stage.images.append(FoundImage(name, platform, where))


def parse_dockerfile(
    text: str,
    *,
    build_args: dict[str, str] | None = None,
    source: str = "Dockerfile",
    target: str | None = None,
    contexts: Mapping[str, str | None] | None = None,
) -> DockerfileRefs:
    """The images `text` pulls (deduplicated, in order) and its stage names.

    target: build only that stage and the stages it needs, as BuildKit does (UsageError
    when no stage has that name). contexts: named build contexts (name -> image of a
    docker-image:// context, None for any other kind), which replace the FROM and
    COPY --from references of the same name.
    """
    given = dict(build_args or {})
    state = _Parse(DockerfileRefs(), {}, contexts or {})
    for instruction in logical_lines(text):
        where = f"{source}:{instruction.line}"
        if instruction.keyword == "ARG" and not state.stages:
            for name, default in _arg_pairs(instruction.rest):
                state.args[name] = given.get(name, default)
        elif instruction.keyword == "FROM":
            _add_from(state, instruction.rest, where)
        elif instruction.keyword in ("COPY", "ADD") and state.stages:
            _add_copy_from(state, instruction.rest, where)
    _select(state, target, source)
    return state.refs


def _add_from(state: _Parse, rest: str, where: str) -> None:
    raw_platform, raw_image, alias = _split_from(rest)
    image, missing = substitute(raw_image, state.args)
    platform: str | None = None
    if raw_platform:
        platform, platform_missing = substitute(raw_platform, state.args)
        if platform_missing or not platform:
            platform = None  # $BUILDPLATFORM and friends: the daemon's own platform
    stage = _Stage(alias.lower() if alias else None)
    if alias:
        state.refs.stages.append(alias.lower())
    automatic = missing & AUTOMATIC_ARGS
    if missing or not image:
        names = ", ".join(sorted(missing)) or "the image"
        why = "set by BuildKit per build" if automatic else "has no default (pass a build arg)"
        state.refs.unresolved.append(f"{where}: FROM {raw_image}: {names} {why}")
    else:
        state.use(stage, image, platform, where)
    state.stages.append(stage)


def _add_copy_from(state: _Parse, rest: str, where: str) -> None:
    for word in rest.split():
        if not word.startswith("--"):
            break
        if word.startswith("--from="):
            target = word.split("=", 1)[1]
            if "$" not in target:
                state.use(state.stages[-1], target, None, where)
            return


def _select(state: _Parse, target: str | None, source: str) -> None:
    """Images of the stages built: all of them, or the target's and those it needs."""
    chosen = list(range(len(state.stages)))
    if target is not None:
        index = state.stage_index(target)
        if index is None or target.isdigit():
            raise UsageError(f"{source}: build target {target!r} is not a stage of the Dockerfile")
        wanted, todo = set(), [index]
        while todo:
            current = todo.pop()
            if current not in wanted:
                wanted.add(current)
                todo.extend(state.stages[current].needs)
        chosen = sorted(wanted)
    seen: set[tuple[str, str | None]] = set()
    for number in chosen:
        for image in state.stages[number].images:
            if (image.image, image.platform) not in seen:
                seen.add((image.image, image.platform))
                state.refs.images.append(image)


def read_dockerfile(path: Path, build_args: dict[str, str] | None = None) -> DockerfileRefs:
    """parse_dockerfile on a file; UsageError when it cannot be read."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"Dockerfile {path}: not found") from None
    except IsADirectoryError:
        raise UsageError(f"Dockerfile {path}: is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Dockerfile {path}: cannot read: {exc}") from None
    return parse_dockerfile(text, build_args=build_args, source=str(path))
