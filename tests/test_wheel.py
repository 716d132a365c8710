"""Workers install the wheel the project builds (flickr-ingest is not on PyPI): the
guide's command builds it, and it installs and runs in a clean virtual environment.

Installing Prefect and the rest from PyPI into that environment takes about a minute, so
the environment borrows this one's installed packages instead: a `.pth` line puts this
environment's site-packages after its own. Only the wheel provides flickr-ingest there
(the line adds the folder but not the editable install's hook in it), and a check in the
new environment shows that every package the installed code imports is one the wheel
requires, directly or through its requirements: a missing requirement fails here, not on
a worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # builds the wheel and installs it in a new virtualenv

ROOT = Path(__file__).resolve().parents[1]

#: Run in the new environment: imports every module of the installed packages, then
#: prints each third-party package that their code imports (read from the source) but
#: that no distribution in flickr-ingest's requirements (closure, extras aside) provides.
CHECK_IMPORTS = r"""
import ast, importlib, importlib.metadata as md, pathlib, pkgutil, sys
from packaging.requirements import Requirement

import flickr_ingest, flows, tasks
imported = set()
for package in (flickr_ingest, flows, tasks):
    assert package.__file__.startswith(sys.prefix), package.__file__  # from the wheel
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith(".__main__"):  # would run the CLI
            importlib.import_module(module.name)
    for path in pathlib.Path(package.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.partition(".")[0])

def closure(name, seen):
    key = name.lower().replace("_", "-")
    if key not in seen:
        seen.add(key)
        for line in md.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                closure(requirement.name, seen)
    return seen

required = closure("flickr-ingest", set()) | {"flickr-ingest"}
owners = md.packages_distributions()
for top in sorted(imported - set(sys.stdlib_module_names) - {"flickr_ingest", "flows", "tasks"}):
    dists = {d.lower().replace("_", "-") for d in owners.get(top, ["(none installed)"])}
    if not dists & required:
        print(top, sorted(dists))
"""


def test_the_built_wheel_installs_and_runs_in_a_clean_virtualenv(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building leaves build/ and egg-info behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in ("flickr_ingest", "flows", "tasks"):
        shutil.copytree(ROOT / package, source / package, ignore=_caches)
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), ".", cwd=source)
    (wheel,) = dist.glob("flickr_ingest-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel), cwd=tmp_path)  # fmt: skip
    site = Path(_run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=tmp_path).strip())  # fmt: skip
    borrowed = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "borrowed-packages.pth").write_text("\n".join(borrowed) + "\n")

    usage = _run(str(venv / "bin" / "flickr-ingest"), "--help", cwd=tmp_path)
    for command in ("run", "demo", "sandbox", "auth", "server", "setup", "relay"):
        assert f"\n    {command} " in usage, usage
    missing = _run(str(python), "-c", CHECK_IMPORTS, cwd=tmp_path)
    assert missing == "", f"imported but not required by the wheel:\n{missing}"


def _run(*command: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PREFECT_HOME"] = str(cwd / "prefect")
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout


def _caches(_folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]
