"""Real concurrency for the PostgreSQL race tests: calls released at once, each on its own connection."""

from __future__ import annotations

import threading

from django.db import connection


def run_together(*calls, timeout: float = 60) -> list:
    """Run each call in its own thread and connection, released at once; results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # surfaced by the assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
        assert not thread.is_alive(), "a request hung"
    return results
