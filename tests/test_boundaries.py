"""The core package never imports Prefect, nor the shell that does: flows/ and tasks/ are
its only Prefect shell, and they import the library, never the other way."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "flickr_ingest"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


#: What the library may not import: Prefect, and the Prefect shell.
SHELL = {"prefect", "flows", "tasks", "deployments"}


def test_core_package_imports_neither_prefect_nor_the_shell() -> None:
    offenders = {
        str(path.relative_to(CORE)): sorted(
            name for name in _imported_modules(path) if name.split(".")[0] in SHELL
        )
        for path in CORE.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_an_import_when_there_is_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import tasks.ingest\ndef f():\n    from prefect import flow\n    from flows.ingest import x\n",
        encoding="utf-8",
    )
    assert {"prefect", "flows.ingest", "tasks.ingest"} <= _imported_modules(sample)
