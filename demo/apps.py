from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py seed_demo`: the top of the app stack, free to use every app below it (README.md, "Layout")."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
