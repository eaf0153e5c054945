"""The schemathesis configuration for scripts/ci/fuzz.sh, and a summary of what was served.

`config.py IDS_FILE` prints schemathesis.toml: dictionaries of the seeded ids and
usernames (from stories/fuzz/seed.py) that path ids and usernames are drawn from more
often than not, and the checks switched off per operation, each with its reason.
`config.py --summarize ACCESS_LOG` prints, per path template, the statuses gunicorn
answered, so a run that never got past 404 shows.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict

# positive_data_acceptance expects every request that matches the schema to succeed. Bodies
# and free text can match the schema and still be refused (400) for rules OpenAPI 3.0 cannot
# state: start before end, unique dates and rankings, no overlap, an existing friend or user,
# a strong password, no NUL character, an IANA time zone name (`?tz=` of the suggestions and the
# availability grid: OpenAPI could state it only as an enum of some 600 names) (docs/security.md,
# "Fuzzing"). The check stays on for every operation without them.
NO_POSITIVE_ACCEPTANCE = """
[[operations]]
include-method = ["POST", "PUT", "PATCH"]
checks.positive_data_acceptance.enabled = false

[[operations]]
include-operation-id = ["contacts_search_list", "calendars_suggestions", "calendars_availability"]
checks.positive_data_acceptance.enabled = false

# Deleting the account needs the right password (any other is a 400), and the export is throttled per
# user (5 an hour: a 429 after that, declared).
[[operations]]
include-operation-id = ["auth_me_delete", "auth_me_export"]
checks.positive_data_acceptance.enabled = false
"""


CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
]
# object_level_authorization needs a second user's credentials; tests/test_authz_matrix.py
# walks every operation as four actors instead.
OFF = ["object_level_authorization"]


def config(ids: dict) -> str:
    def values(*names: str) -> str:
        return ", ".join(json.dumps(value) for name in names for value in ids[name])

    return f"""
[cache]
enabled = false

# In the file, not on the command line: command-line checks override the per-operation settings below.
[checks]
{chr(10).join(f"{name}.enabled = true" for name in CHECKS)}
{chr(10).join(f"{name}.enabled = false" for name in OFF)}

[dictionaries]
calendar_ids = {{ values = [{values("calendars")}] }}
day_ids = {{ values = [{values("days")}] }}
object_ids = {{ values = [{values("timeslots", "invitations", "contacts", "webhooks")}] }}
usernames = {{ values = [{values("usernames")}] }}
feed_tokens = {{ values = [{values("feed_tokens")}] }}

[parameters]
"path.calendar_id" = {{ dictionary = "calendar_ids", probability = 0.6 }}
"path.day_id" = {{ dictionary = "day_ids", probability = 0.6 }}
"path.id" = {{ dictionary = "object_ids", probability = 0.6 }}
"path.token" = {{ dictionary = "feed_tokens", probability = 0.5 }}
"body.username" = {{ dictionary = "usernames", probability = 0.5 }}
"body.invitee_username" = {{ dictionary = "usernames", probability = 0.5 }}
{NO_POSITIVE_ACCEPTANCE}"""


REQUEST = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.[01]" (?P<status>\d{3}) ')


def template(path: str) -> str:
    path = path.split("?", 1)[0]
    return re.sub(r"/-?\d+(?=/)", "/{n}", path) if len(path) <= 80 else "(long or odd path)"


def summarize(log_path: str) -> None:
    by_operation: dict[str, Counter] = defaultdict(Counter)
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = REQUEST.search(line)
            if match:
                key = f"{match['method']} {template(match['path'])}"
                by_operation[key][match["status"]] += 1
    for key in sorted(by_operation, key=lambda k: -sum(by_operation[k].values()))[:45]:
        counts = by_operation[key]
        statuses = " ".join(f"{status}:{n}" for status, n in sorted(counts.items()))
        print(f"  {key:<62} {statuses}")
    everything = Counter()
    for counts in by_operation.values():
        everything.update(counts)
    classes = Counter()
    for status, n in everything.items():
        classes[status[0] + "xx"] += n
    print("  all: " + " ".join(f"{c}:{n}" for c, n in sorted(classes.items())))


if __name__ == "__main__":
    if sys.argv[1] == "--summarize":
        summarize(sys.argv[2])
    else:
        with open(sys.argv[1], encoding="utf-8") as ids:
            print(config(json.load(ids)))
