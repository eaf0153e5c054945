from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts import export
        from accounts.serializers import ExportProfileSerializer

        export.register(
            "profile", build=lambda user: ExportProfileSerializer(user).data, schema=ExportProfileSerializer
        )
