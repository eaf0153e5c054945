from django.apps import AppConfig


class InvitationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "invitations"

    def ready(self) -> None:
        from contacts.signals import relation_severed
        from invitations import export, services

        # Former friends, and a blocked user, stop sharing calendars (contacts.signals).
        relation_severed.connect(services.end_invitations_on_severed_relation, dispatch_uid="invitations-end")
        export.register_sections()
