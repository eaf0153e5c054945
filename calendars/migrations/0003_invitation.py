# The Invitation model moves from the invitations app to calendars (it defines calendar membership, which
# calendars.access needs). Its table stays where it is: this changes Django's state only.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("calendars", "0002_timezone_finalize_feed"),
        ("invitations", "0003_invitation_reminded_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Invitation",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "waiting for the invitee's answer"),
                                    ("accepted", "the invitee is a participant"),
                                    ("rejected", "the invitee declined"),
                                ],
                                default="pending",
                                max_length=8,
                            ),
                        ),
                        ("invited_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("reminded_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "calendar",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="invitations",
                                to="calendars.calendar",
                            ),
                        ),
                        (
                            "invitee",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="invitations",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "inviter",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sent_invitations",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "invitations_invitation",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(fields=["invitee", "status"], name="invitation_invitee_status"),
                            models.Index(fields=["invitee", "-invited_at"], name="invitation_invitee_invited"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("calendar", "invitee"), name="invitation_unique_invitee"),
                            models.CheckConstraint(
                                condition=models.Q(("invitee", models.F("inviter")), _negated=True),
                                name="invitation_not_self",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("status__in", ["pending", "accepted", "rejected"])),
                                name="invitation_status_valid",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
