from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "calendars"

    def ready(self) -> None:
        from django.conf import settings

        from calendars import tasks
        from delivery import periodic

        # The deadline notices are scheduled for their moment; this catches what the schedule missed.
        periodic.register(
            "calendars.deadline_sweep", tasks.deadline_sweep, every=periodic.seconds(settings.DEADLINE_SWEEP_SECONDS)
        )
