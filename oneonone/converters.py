"""Path converters: `<id:name>` for database ids, registered when oneonone.urls is loaded."""

from __future__ import annotations

from django.urls import register_converter

MAX_ID = 2**63 - 1  # the largest value of a BigAutoField (and of a SQLite integer)


class IdConverter:
    """Digits up to the 64-bit signed maximum; a larger number does not match, so the path is a 404.

    Django's `int` converter takes any number of digits: on SQLite a number past 2**63 - 1 raised an
    OverflowError (500) in the first query that used it, where PostgreSQL answers 404.
    """

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        if len(value) > 19 or int(value) > MAX_ID:
            raise ValueError("beyond the range of ids")  # Django tries the next pattern, then 404s
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
