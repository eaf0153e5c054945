# The Invitation model now lives in calendars (calendars/migrations/0003_invitation.py), on the same table.
# State only: nothing happens in the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("invitations", "0003_invitation_reminded_at"),
        ("calendars", "0003_invitation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Invitation")],
            database_operations=[],
        ),
    ]
