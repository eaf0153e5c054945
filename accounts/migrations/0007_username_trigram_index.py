"""A trigram index for the user search's contains-match (contacts.selectors.user_search), on PostgreSQL only.

`username__icontains` is `UPPER(username::text) LIKE UPPER('%text%')`: no B-tree index can serve a match
in the middle of the name, so PostgreSQL read every user (3.5 ms at 10,000 users, growing with the table;
docs/performance.md, "Flat as the data grows"). A GIN index of the trigrams of that very expression
(`pg_trgm`, a trusted extension: the database's owner may create it) serves any text of three characters
or more. SQLite has no such index and scans its (small) table: there the migration does nothing.
"""

from django.db import migrations

INDEX = "user_username_upper_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON accounts_user USING gin ((UPPER(username::text)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_timezone"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
