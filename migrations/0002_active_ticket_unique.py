"""At most one active (bot, pending or open) ticket per contact and connection.

A partial unique index, which the ORM cannot describe, so it is raw SQL that Postgres and
SQLite both accept. The inbound pipeline relies on it: two messages of a new conversation
racing to create its ticket make one IntegrityError, not two tickets.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.RunSQL(
            sql=(
                "CREATE UNIQUE INDEX uidx_tickets_one_active ON tickets (contact_id, connection_id)"
                " WHERE status IN ('bot', 'pending', 'open')"
            ),
            reverse_sql="DROP INDEX uidx_tickets_one_active",
        ),
    ]
