"""The apps point only down (README.md, "Layout"): the import-linter contract in pyproject.toml holds.

demo > webhooks > invitations > calendars > contacts > accounts > idempotency > delivery > oneonone: an app
may import the ones to its right, never one to its left; a lower app tells an upper one what happened through a
hook it owns.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["oneonone", "delivery", "idempotency", "accounts", "contacts", "calendars", "invitations", "webhooks", "demo"]


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=where,
        env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_app_imports_only_the_apps_below_it():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_an_import_of_an_upper_app_breaks_the_contract(tmp_path):
    # The same tree and contract with one upward import added: the check must name it.
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    models = tmp_path / "contacts" / "models.py"
    models.write_text(models.read_text() + "\nimport invitations.services  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "contacts.models -> invitations.services" in result.stdout
    assert "Contracts: 0 kept, 1 broken." in result.stdout
