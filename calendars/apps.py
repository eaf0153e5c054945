from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "calendars"

    def ready(self) -> None:
        from accounts.signals import user_deleting
        from calendars import export, services

        # A deleted account takes its calendars with it; their participants are told (accounts.signals).
        user_deleting.connect(services.calendars_end_with_creator, dispatch_uid="calendars-creator-gone")
        export.register_sections()
