"""IANA time zones, as every app validates them: calendars' zones, people's own zones, `?tz=` parameters."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from rest_framework import serializers


@cache
def time_zone_names() -> dict[str, str]:
    """Valid IANA zone names keyed by their lower-case form (so `europe/berlin` finds `Europe/Berlin`).

    `localtime` (the server's own zone) and `Factory` (a placeholder) are not places.
    """
    return {name.lower(): name for name in available_timezones() - {"localtime", "Factory"}}


class TimeZoneField(serializers.CharField):
    """An IANA zone name, validated against the zone database and answered in its canonical case."""

    default_error_messages = {"unknown": "Unknown time zone {value!r}; use an IANA name such as Europe/Berlin."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # After the CharField checks (blank, null, length), so those keep their usual messages.
        value = super().run_validation(data)
        if value is serializers.empty or value is None or value == "":
            return value
        canonical = time_zone_names().get(value.lower())
        if canonical is None:
            self.fail("unknown", value=value)
        return canonical


def city(zone: str) -> str:
    """`America/New_York` -> `New York`, `UTC` -> `UTC`: a zone as people name it in a sentence.

    The fixed `Etc/GMT+N` zones are named by their offset, whose sign POSIX writes the other way round:
    `Etc/GMT+12` is UTC-12.
    """
    if zone.startswith("Etc/GMT") and zone[7:8] in {"+", "-"}:
        return f"UTC{'-' if zone[7] == '+' else '+'}{zone[8:]}"
    return zone.rsplit("/", 1)[-1].replace("_", " ")
