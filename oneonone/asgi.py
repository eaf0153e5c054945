"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneonone.settings")

django_application = get_asgi_application()

from oneonone.middleware import AsgiCharsetGuard  # noqa: E402 - after Django is set up

# Django decodes the query string with the request's charset before any middleware runs.
application = AsgiCharsetGuard(django_application)
