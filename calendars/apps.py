from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "calendars"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save, pre_delete, pre_save

        from accounts.signals import user_deleting
        from calendars import export, services, tasks, versions
        from delivery import periodic

        # The deadline notices are scheduled for their moment; this catches what the schedule missed.
        periodic.register(
            "calendars.deadline_sweep", tasks.deadline_sweep, every=periodic.seconds(settings.DEADLINE_SWEEP_SECONDS)
        )

        # A deleted account takes its calendars with it; their participants are told (accounts.signals).
        user_deleting.connect(services.calendars_end_with_creator, dispatch_uid="calendars-creator-gone")
        # Names show in calendars, and a deleted user's invitations and slots leave others' calendars: both count
        # as changes of those calendars (calendars.versions), however the user row is changed.
        user_model = get_user_model()
        pre_save.connect(versions.remember_username, sender=user_model, dispatch_uid="calendars-username")
        post_save.connect(versions.count_username_change, sender=user_model, dispatch_uid="calendars-username")
        pre_delete.connect(versions.count_user_leaving, sender=user_model, dispatch_uid="calendars-user-leaving")
        export.register_sections()
