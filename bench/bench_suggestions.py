"""Benchmark of the best-meeting-times computation (calendars.scheduling), without database or HTTP.

Run: .venv/bin/python bench/bench_suggestions.py [--participants 100 --days 30 --slots 10 --runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time as clock
from datetime import date, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calendars.scheduling import CandidateDay, Slot, suggest_meeting_times


def build_inputs(*, participants: int, days: int, slots: int, seed: int = 6) -> dict:
    """A creator and `participants` accepted invitees, each with `slots` non-overlapping slots on every day."""
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    first = date(2030, 3, 18)  # the span covers Europe/Berlin's spring-forward day
    candidate_days = [CandidateDay(first + timedelta(days=i), ranking=i + 1) for i in range(days)]
    people = ["creator", *(f"user{i:03d}" for i in range(participants))]
    all_slots = []
    quarters = range(7 * 4, 22 * 4 + 1)  # slot boundaries on the quarter hour, 07:00 to 22:00
    for day in candidate_days:
        for person in people:
            bounds = sorted(rng.sample(quarters, 2 * slots))
            for start, end in zip(bounds[::2], bounds[1::2], strict=True):
                all_slots.append(Slot(person, day.date, time(*divmod(start * 15, 60)), time(*divmod(end * 15, 60))))
    return {
        "time_zone": "Europe/Berlin",
        "days": candidate_days,
        "creator": people[0],
        "participants": people[1:],
        "pending": [f"pending{i}" for i in range(5)],
        "slots": all_slots,
    }


def median_seconds(inputs: dict, *, runs: int, **params) -> tuple[float, int]:
    timings = []
    for _ in range(runs):
        started = clock.perf_counter()
        result = suggest_meeting_times(**inputs, **params)
        timings.append(clock.perf_counter() - started)
    return statistics.median(timings), len(result.suggestions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    inputs = build_inputs(participants=args.participants, days=args.days, slots=args.slots)
    total = len(inputs["slots"])
    for params in ({"duration": 60, "step": 15, "limit": 10}, {"duration": 30, "step": 5, "limit": 50}):
        seconds, found = median_seconds(inputs, runs=args.runs, **params)
        print(
            f"suggestions: creator + {args.participants} participants x {args.days} days x {args.slots} slots"
            f" = {total} slots, duration {params['duration']} min, step {params['step']}, limit {params['limit']}:"
            f" median {seconds:.3f} s over {args.runs} runs ({found} suggestions)"
        )


if __name__ == "__main__":
    main()
