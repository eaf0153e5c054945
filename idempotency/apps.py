from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "idempotency"

    def ready(self) -> None:
        from delivery import periodic
        from idempotency import tasks

        periodic.register("idempotency.purge", tasks.purge_expired_keys, every=tasks.purge_interval())
