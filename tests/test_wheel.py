"""Installed as a user installs it (a wheel, not -e), digest builds an edition.

The wheel is built from a copy holding only what the sdist would (pyproject.toml,
README.md, digest/), so nothing outside the package can stand in for package data.
It is installed into a fresh virtual environment with --no-deps: the environment
sees this test environment's packages through a .pth line (not as a site folder,
so the editable install's finder here is never run), and resolving the
dependencies from the registry instead took about a minute on the shared machine.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from digest.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T07:00:00+00:00"
SUFFIXES = (".html", ".email.html", ".txt", ".eml", ".json")

pytestmark = pytest.mark.slow


def _wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "digest", source / "digest", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("digest-*.whl")
    return wheel


def _fresh_venv_with(wheel: Path, tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return venv


def _config_and_seeds(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy2(ROOT / "schedule.yaml", folder / "schedule.yaml")
    shutil.copytree(ROOT / "seeds", folder / "seeds")
    return folder


def _visible_text(page: str) -> str:
    text = re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(style|head)\b.*?</\1>", " ", page))
    return " ".join(html.unescape(text).split())


def test_the_wheel_installed_without_e_builds_the_seed_edition_from_a_folder_of_config_and_seeds(tmp_path):
    venv = _fresh_venv_with(_wheel(tmp_path), tmp_path)
    site, source_site = _config_and_seeds(tmp_path / "site"), _config_and_seeds(tmp_path / "source-site")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import digest; print(digest.__file__)"],
        cwd=site, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where

    built = subprocess.run(
        [str(venv / "bin" / "digest"), "build", "--now", NOW, "--out", "edition"],
        cwd=site, env=env, capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    written = sorted((site / "edition").iterdir())
    assert sorted(p.name.removeprefix("weekly-2026-11-23") for p in written) == sorted(SUFFIXES)

    titles = [
        story["title"]
        for document in YAML(typ="safe").load((ROOT / "tests/data/labeled/seeds.yaml").read_text(encoding="utf-8")).values()
        for story in document["stories"]
        if "title" in story
    ]
    page = _visible_text((site / "edition" / "weekly-2026-11-23.html").read_text(encoding="utf-8"))
    assert titles and all(title in page for title in titles), [t for t in titles if t not in page]

    from_source = tmp_path / "from-source"
    result = CliRunner().invoke(
        main, ["build", "--config", str(source_site / "schedule.yaml"), "--out", str(from_source), "--now", NOW]
    )
    assert result.exit_code == 0, result.stderr
    for path in written:
        assert path.read_bytes() == (from_source / path.name).read_bytes(), path.name
