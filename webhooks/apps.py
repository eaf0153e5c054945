from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self) -> None:
        from delivery import periodic
        from webhooks import events, export, health, tasks

        events.connect()
        periodic.register("webhooks.sweep", tasks.sweep, every=periodic.sweep_interval())
        health.register_stats()
        export.register_sections()
