"""What `GET /healthz/?detail=1` reports besides the database: each app registers a function here.

The project sits below every app, so apps register (in their AppConfig.ready) instead of being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

_reporters: dict[str, Callable[[], dict[str, Any]]] = {}


def register(name: str, report: Callable[[], dict[str, Any]]) -> None:
    """Add `report()`'s dict under `name` in the detailed health answer."""
    _reporters[name] = report


def details() -> dict[str, dict[str, Any]]:
    return {name: report() for name, report in sorted(_reporters.items())}


def by_status(queryset: QuerySet[Any], field: str = "status") -> dict[str, int]:
    """How many rows of `queryset` there are per value of `field` (one query)."""
    return dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())


def seconds_since_oldest(queryset: QuerySet[Any], field: str = "created_at") -> float | None:
    """The age of the oldest row of `queryset` (by `field`), in seconds to a tenth; None when there is none."""
    oldest = queryset.aggregate(at=Min(field))["at"]
    return round((timezone.now() - oldest).total_seconds(), 1) if oldest else None
