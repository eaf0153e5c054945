"""gunicorn settings; each can be overridden on the command line or with GUNICORN_CMD_ARGS."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# The longest request line gunicorn allows (its default is 4094); longer ones get its own
# HTML 414, declared in the schema and in docs/security.md.
limit_request_line = 8190
max_requests = 5000
# Jitter of half the period, so the workers do not all restart in the same second (docs/performance.md).
max_requests_jitter = 2500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker: object) -> None:
    """Move what the worker holds after loading the app (Django, DRF, the URLconf, the models) out of the
    garbage collector's reach: its full collections then walk only what requests allocate (docs/performance.md)."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf, so every view module, before the freeze
    gc.collect()
    gc.freeze()
