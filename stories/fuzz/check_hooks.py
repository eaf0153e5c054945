"""A self-check of hooks.py's excusal, run by scripts/ci/fuzz.sh before the fuzzer starts (with .venv-fuzz).

schemathesis records a mutation's place in more than one spelling (the schema channel names the
`type` keyword, the value channel the property, the coverage phase only a pointer); each spelling
seen in a run is held here, so a spelling the hook misses fails in seconds, not after a whole run.
Needs FUZZ_IDS_FILE and FUZZ_SCHEMA_FILE, as the hooks do.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import hooks
from schemathesis.core.mutations import Mutation, MutationChannel, OperatorKind
from schemathesis.core.parameters import ParameterLocation


def mutation(pointer: str, keywords: tuple[str, ...], path: tuple = (), channel=MutationChannel.VALUE) -> Mutation:
    return Mutation(
        path=path,
        parameter_location=ParameterLocation.BODY,
        schema_pointer=pointer,
        channel=channel,
        operator=OperatorKind.VALUE_VIOLATOR,
        keywords=keywords,
        parameter=str(path[-1]) if path else None,
        original_value="string",
        new_value="integer",
    )


def case(path: str, body, mutations=(), location=None, media_type: str | None = "application/json", method="POST"):
    data = SimpleNamespace(description="", mutations=tuple(mutations), location=location)
    return SimpleNamespace(
        operation=SimpleNamespace(path=path),
        method=method,
        media_type=media_type,
        body=body,
        meta=SimpleNamespace(phase=SimpleNamespace(data=data)),
    )


DAYS = [{"date": "2030-01-02", "ranking": 1, "timeslots": [{"start_time": "09:00", "end_time": "10:00"}]}]
EXCUSED = {
    # CI, stateful phase: the value channel names the property, not the keyword, and no media type is set.
    "value channel, stateful": case(
        "/contacts/unblock/", {"username": 0}, [mutation("/properties/username", ("type",), ("username",))], None, None
    ),
    "schema channel, keyword named": case(
        "/contacts/unblock/", {"username": 1.5}, [mutation("/properties/username/type", ("type",))]
    ),
    "pointer with '#'": case("/contacts/unblock/", {"username": 3}, [mutation("#/properties/username/type", ())]),
    "coverage phase, pointer only": case("/contacts/unblock/", {"username": 0}, location="/properties/username/type"),
    # The first day has no slots: the value is found by its path, not through the first items.
    "a later item, by its path": case(
        "/calendars/",
        {
            "title": "t",
            "days": [
                {"date": "2030-01-02", "ranking": 1},
                {"date": "2030-01-03", "ranking": 2, "timeslots": [{"start_time": 9, "end_time": "10:00"}]},
            ],
        },
        [
            mutation(
                "/properties/days/items/properties/timeslots/items/properties/start_time",
                ("type",),
                ("days", 1, "timeslots", 0, "start_time"),
            )
        ],
    ),
    "through a reference": case(
        "/calendars/",
        {"title": 7, "days": DAYS},
        [mutation("/$ref/CalendarCreate/properties/title", ("type",), ("title",))],
    ),
}
REFUSED = {
    "a string for a string field": case(
        "/contacts/unblock/", {"username": "x"}, [mutation("/properties/username", ("type",), ("username",))]
    ),
    "a boolean for a string field": case(
        "/contacts/unblock/", {"username": True}, [mutation("/properties/username", ("type",), ("username",))]
    ),
    "a number for an integer field": case(
        "/calendars/",
        {"title": "t", "days": [{**DAYS[0], "ranking": 0}]},
        [mutation("/properties/days/items/properties/ranking/type", ("type",))],
    ),
    "another keyword": case(
        "/contacts/unblock/", {"username": 0}, [mutation("/properties/username", ("maxLength",), ("username",))]
    ),
    "no pointer at all": case("/contacts/unblock/", {"username": 0}),
}

failures = [name for name, c in EXCUSED.items() if not hooks._excused(c)]
failures += [name for name, c in REFUSED.items() if hooks._excused(c)]
for name in failures:
    print(f"check_hooks: wrong answer for {name!r}", file=sys.stderr)
print(f"check_hooks: {len(EXCUSED) + len(REFUSED) - len(failures)} of {len(EXCUSED) + len(REFUSED)} as expected")
sys.exit(1 if failures else 0)
