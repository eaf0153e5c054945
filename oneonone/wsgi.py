"""WSGI entry point (gunicorn oneonone.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneonone.settings")

django_application = get_wsgi_application()

from oneonone.middleware import CharsetGuard  # noqa: E402 - after Django is set up

# Django decodes the query string with the request's charset before any middleware runs.
application = CharsetGuard(django_application)
