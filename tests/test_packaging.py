"""The project installs under one import name, `phonon` (issue 14 part 1): a wheel built from the repo holds
only `phonon/` (graph, engine and workers inside it), and `phonon --version`, `python -m phonon --version` and
the package metadata agree."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "phonon", "graph", "engine", "workers")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the repo (the build writes build/ and egg-info where it runs)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tree / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(tree)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("phonon-*.whl")
    return path


def test_the_wheel_installs_only_the_phonon_import_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"phonon"}
    for package in ("graph", "graph/patterns", "graph/plan", "engine", "engine/kernels", "engine/samples",
                    "engine/cluster", "workers"):
        assert f"phonon/{package}/__init__.py" in names
    assert {"phonon/graph/phonon.lark", "phonon/graph/patterns/mini.lark"} <= set(names)  # the grammars
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "phonon = phonon.engine.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_unpacked_wheel_renders_and_knows_no_other_top_level_name(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import importlib.util, sys\n"
        "import phonon.engine.cli as cli, phonon.graph\n"
        f"assert phonon.graph.__file__.startswith({str(site)!r}), phonon.graph.__file__\n"
        "assert all(importlib.util.find_spec(n) is None for n in ('graph', 'engine', 'workers'))\n"
        "sys.exit(cli.main(['render', '-', '-o', 'x.wav', '-d', '0.2', '-q']))\n"
    )
    # run outside the repo, with the unpacked wheel first on the path, so the checkout cannot answer
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": ""},
                       input="out: sine 440 * 0.1\n", capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "x.wav").stat().st_size > 1000


def test_version_flags_agree_with_the_package_metadata():
    expected = f"phonon {importlib.metadata.version('phonon')}"
    module = subprocess.run([sys.executable, "-m", "phonon", "--version"], capture_output=True, text=True, timeout=120)
    assert module.stdout.strip() == expected, module.stderr
    script = shutil.which("phonon", path=str(Path(sys.executable).parent)) or shutil.which("phonon")
    assert script, "the phonon command is not installed"
    command = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert command.stdout.strip() == expected, command.stderr


def test_the_licence_file_is_the_one_pyproject_names():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'license = "MIT"' in text and 'license-files = ["LICENSE"]' in text
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
