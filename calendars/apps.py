from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "calendars"

    def ready(self) -> None:
        from django.conf import settings

        from accounts.signals import user_deleting
        from calendars import export, services, tasks
        from delivery import periodic

        # The deadline notices are scheduled for their moment; this catches what the schedule missed.
        periodic.register(
            "calendars.deadline_sweep", tasks.deadline_sweep, every=periodic.seconds(settings.DEADLINE_SWEEP_SECONDS)
        )

        # A deleted account takes its calendars with it; their participants are told (accounts.signals).
        user_deleting.connect(services.calendars_end_with_creator, dispatch_uid="calendars-creator-gone")
        export.register_sections()
