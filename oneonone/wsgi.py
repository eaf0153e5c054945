"""WSGI entry point (gunicorn oneonone.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneonone.settings")

application = get_wsgi_application()
