"""The images a compose project pulls: `image:` of services without `build:`, and the
FROM lines of the Dockerfiles of services with one.

Compose interpolation (`${VAR}`, `${VAR:-default}`) reads the environment and the
project's `.env` file, as `docker compose` does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ci_guard.errors import UsageError
from ci_guard.images.dockerfile_refs import DockerfileRefs, FoundImage, parse_dockerfile, substitute

_REMOTE_PREFIXES = ("http://", "https://", "git@", "git://", "github.com/")


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        return values
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#") or "=" not in text:
            continue
        key, _, value = text.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _interpolate(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        expanded, _missing = substitute(value.replace("$$", "\\$"), dict(env))
        return expanded
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    return value


def _build_args(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        pairs = (str(item).partition("=") for item in raw if item is not None)
        return {key: value for key, _, value in pairs}
    return {}


def read_compose(path: Path, env: Mapping[str, str] | None = None) -> DockerfileRefs:
    """Images to pull for the compose file at `path`; UsageError when it cannot be read."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"compose file {path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"compose file {path}: cannot read: {exc}") from None
    data = _load_yaml(path, text)
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        raise UsageError(f"compose file {path}: no services")
    values = {**read_dotenv(path.parent / ".env"), **(os.environ if env is None else env)}
    refs = DockerfileRefs()
    for name, service in services.items():
        if isinstance(service, dict):
            _service_refs(refs, path, str(name), _interpolate(service, values))
    return refs


def _load_yaml(path: Path, text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"compose file {path}: not valid YAML{where}: {problem}") from None


def _service_refs(refs: DockerfileRefs, path: Path, name: str, service: dict[str, Any]) -> None:
    where = f"{path}: service {name}"
    platform = service.get("platform")
    build = service.get("build")
    if build is None:
        image = service.get("image")
        if isinstance(image, str) and image:
            _merge(refs, [FoundImage(image, platform, where)])
        return
    spec = {"context": build} if isinstance(build, str) else dict(build)
    context = str(spec.get("context") or ".")
    if context.startswith(_REMOTE_PREFIXES):
        refs.unresolved.append(f"{where}: remote build context {context} is not read")
        return
    args = _build_args(spec.get("args"))
    inline = spec.get("dockerfile_inline")
    if isinstance(inline, str):
        found = parse_dockerfile(inline, build_args=args, source=f"{where} (inline Dockerfile)")
    else:
        dockerfile = path.parent / context / str(spec.get("dockerfile") or "Dockerfile")
        try:
            text = dockerfile.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{where}: cannot read {dockerfile}: {exc}") from None
        found = parse_dockerfile(text, build_args=args, source=str(dockerfile))
    images = [FoundImage(i.image, i.platform or platform, i.source) for i in found.images]
    _merge(refs, images)
    refs.unresolved.extend(found.unresolved)


def _merge(refs: DockerfileRefs, images: list[FoundImage]) -> None:
    known = {(i.image, i.platform) for i in refs.images}
    for image in images:
        if (image.image, image.platform) not in known:
            known.add((image.image, image.platform))
            refs.images.append(image)
