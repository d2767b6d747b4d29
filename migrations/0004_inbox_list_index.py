"""The inbox list pages tickets by id, newest first, within a company, status and queue:
index exactly that (the index it replaces ended in last_message_at, which no list sorts by).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_whatsapp_sessions_media')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Ticket',
            name=None,
            fields=['company_id', 'status', 'queue_id', 'last_message_at'],
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['company_id', 'status', 'queue_id', 'id']),
        ),
    ]
