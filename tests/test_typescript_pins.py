"""The two TypeScript clients of the schema (stories/client-ts/ and the sample page in stories/browser/) pin
the same generator, fetch client and compiler, exactly, in package.json and in the lock file, so the story CI
runs is the one the page is checked with (and typescript stays 5.x: 7.x has no compiler API for the generator).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STORIES = Path(__file__).resolve().parent.parent / "stories"
PACKAGES = [STORIES / "client-ts", STORIES / "browser"]
SHARED = ["openapi-fetch", "openapi-typescript", "typescript"]


def pins(folder: Path) -> dict[str, str]:
    manifest = json.loads((folder / "package.json").read_text())
    return {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}


def locked(folder: Path) -> dict[str, str]:
    lock = json.loads((folder / "package-lock.json").read_text())
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in SHARED}


@pytest.mark.parametrize("folder", PACKAGES, ids=lambda folder: folder.name)
def test_exact_pins_matching_the_lock(folder):
    wanted = pins(folder)
    assert {name: wanted[name] for name in SHARED} == locked(folder)
    assert all(version[0].isdigit() for version in wanted.values()), wanted
    assert wanted["typescript"].startswith("5."), "openapi-typescript needs typescript 5 (7.x has no compiler API)"


def test_both_clients_pin_the_same_versions():
    first, second = ({name: pins(folder)[name] for name in SHARED} for folder in PACKAGES)
    assert first == second
