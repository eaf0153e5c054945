from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "delivery"

    def ready(self) -> None:
        from delivery import health, periodic, tasks

        periodic.register("delivery.sweep", tasks.sweep, every=periodic.sweep_interval())
        health.register_queue_stats()
