"""pytest plugin for mutation runs on PostgreSQL (scripts/mutation/mutate.py): a test database per worker.

mutmut forks a process per mutant, up to --max-children at once, and each runs a pytest session. On
PostgreSQL they would all create, use and drop the same test database. Here each session takes the
first free slot of the server (an flock held until the process exits, so a killed worker frees its
slot; the slots are per server, so two mutation runs against one server never share one), names its
test database after it through pytest-django's TOX_PARALLEL_ENV suffix, keeps it (--reuse-db), and
empties it first, since a worker killed in a committed-transaction test may have left rows behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

import pytest

_slot_file = None
_test_settings: dict[str, dict] = {}  # alias -> the NAME and TEST settings before the session


def pytest_configure(config):
    global _slot_file
    from django.conf import settings

    # pytest-django appends the suffix to the test database's name in the settings, and with --reuse-db
    # leaves NAME pointing at the test database; the settings outlive the session in mutmut's main
    # process, so put both back at the end, or each session would add a prefix and a suffix.
    _test_settings.update(
        {alias: {"NAME": db["NAME"], "TEST": dict(db.get("TEST", {}))} for alias, db in settings.DATABASES.items()}
    )
    # One set of slots per PostgreSQL server, whoever runs against it: two mutation runs at once (two modules,
    # or a sample beside a full run) must not share a test database.
    server = settings.DATABASES["default"]
    where = hashlib.sha256(f"{server.get('HOST')}:{server.get('PORT')}".encode()).hexdigest()[:16]
    directory = Path(tempfile.gettempdir()) / f"oneonone-mutation-slots-{where}"
    directory.mkdir(exist_ok=True)
    for slot in range(64):
        handle = open(directory / f"{slot}.lock", "w")  # held until the process exits
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _slot_file = handle
        os.environ["TOX_PARALLEL_ENV"] = f"mutation{slot}"
        return
    raise pytest.UsageError("mutation_slots: no free slot")


def pytest_unconfigure(config):
    # mutmut's main process runs several sessions and forks its workers from them: free the slot.
    global _slot_file
    if _slot_file is not None:
        _slot_file.close()
        _slot_file = None
    os.environ.pop("TOX_PARALLEL_ENV", None)
    from django.conf import settings

    for alias, saved in _test_settings.items():
        settings.DATABASES[alias].update(saved)
    _test_settings.clear()


@pytest.fixture(scope="session", autouse=True)
def _empty_reused_database(django_db_setup, django_db_blocker):
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
