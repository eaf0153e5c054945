"""What `GET /healthz/?detail=1` reports besides the database: each app registers a function here.

The project sits below every app, so apps register (in their AppConfig.ready) instead of being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_reporters: dict[str, Callable[[], dict[str, Any]]] = {}


def register(name: str, report: Callable[[], dict[str, Any]]) -> None:
    """Add `report()`'s dict under `name` in the detailed health answer."""
    _reporters[name] = report


def details() -> dict[str, dict[str, Any]]:
    return {name: report() for name, report in sorted(_reporters.items())}
