"""The images a compose project pulls: `image:` of services without `build:`, and for
services with one, the FROM lines of their Dockerfile (build args applied, only the
stages `build.target` needs) and `additional_contexts` of the form docker-image://IMAGE.
The `image:` of a service with `build:` names what the build produces: not pulled.

The project is loaded as Compose v2 does (ci_guard.images.compose_project): a file or a
directory (discovery, override file), interpolation, .env, profiles.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ci_guard.errors import UsageError
from ci_guard.images.compose_project import find_compose_files, load_project
from ci_guard.images.dockerfile_refs import DockerfileRefs, FoundImage, parse_dockerfile

_REMOTE_PREFIXES = ("http://", "https://", "git@", "git://", "github.com/")
_IMAGE_CONTEXT = "docker-image://"


def _pairs(raw: Any, values: Mapping[str, str] | None = None) -> dict[str, str]:
    """A compose mapping given as a mapping or as a list of NAME=VALUE.

    A name without a value takes it from `values` (the environment, for build args), and
    is left out when that has none, so that the Dockerfile's default applies.
    """
    found: dict[str, str | None] = {}
    if isinstance(raw, dict):
        found = {str(k): None if v is None else str(v) for k, v in raw.items()}
    elif isinstance(raw, list):
        for item in (str(entry) for entry in raw if entry is not None):
            key, sep, value = item.partition("=")
            found[key] = value if sep else None
    given = values or {}
    return {
        key: value if value is not None else given[key]
        for key, value in found.items()
        if value is not None or key in given
    }


def _contexts(raw: Any) -> dict[str, str | None]:
    """Named build contexts: the image of docker-image:// ones, None for the others."""
    return {
        name: value.removeprefix(_IMAGE_CONTEXT) if value.startswith(_IMAGE_CONTEXT) else None
        for name, value in _pairs(raw).items()
    }


def read_compose(
    path: Path, env: Mapping[str, str] | None = None, profiles: Sequence[str] = ()
) -> DockerfileRefs:
    """Images to pull for a compose file, or for the project a directory holds.

    UsageError when nothing can be found or read.
    """
    values = os.environ if env is None else env
    files = find_compose_files(path, values) if path.is_dir() else [path]
    project = load_project(files, env, profiles)
    refs = DockerfileRefs(unresolved=list(project.notes))
    for name, service in project.services.items():
        where = f"{files[0]}: service {name}"
        _service_refs(refs, project.directory, where, service, project.values)
    return refs


def _service_refs(
    refs: DockerfileRefs,
    directory: Path,
    where: str,
    service: dict[str, Any],
    values: Mapping[str, str],
) -> None:
    platform = service.get("platform")
    build = service.get("build")
    if "extends" in service:
        refs.unresolved.append(f"{where}: extends: is not followed")
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
    contexts = _contexts(spec.get("additional_contexts"))
    options: dict[str, Any] = {
        "build_args": _pairs(spec.get("args"), values),
        "target": str(spec["target"]) if spec.get("target") else None,
        "contexts": contexts,
    }
    inline = spec.get("dockerfile_inline")
    if isinstance(inline, str):
        found = parse_dockerfile(inline, source=f"{where} (inline Dockerfile)", **options)
    else:
        dockerfile = directory / context / str(spec.get("dockerfile") or "Dockerfile")
        try:
            text = dockerfile.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{where}: cannot read {dockerfile}: {exc}") from None
        found = parse_dockerfile(text, source=str(dockerfile), **options)
    images = [FoundImage(i.image, i.platform or platform, i.source) for i in found.images]
    # docker-image:// contexts are prefetched even when no FROM line names them: an
    # unused one costs a pull, a used one missed costs the build a registry round trip.
    images += [
        FoundImage(image, platform, f"{where} (additional_contexts {name})")
        for name, image in contexts.items()
        if image
    ]
    _merge(refs, images)
    refs.unresolved.extend(found.unresolved)


def _merge(refs: DockerfileRefs, images: list[FoundImage]) -> None:
    known = {(i.image, i.platform) for i in refs.images}
    for image in images:
        if (image.image, image.platform) not in known:
            known.add((image.image, image.platform))
            refs.images.append(image)
