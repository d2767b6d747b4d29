from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.campaigns.models import CampaignStatus, RecipientStatus, ScheduledStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_inbox_list_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactList',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='contact_lists', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=120)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'contact_lists', 'app': 'models', 'unique_together': (('company', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContactListMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contact_list', fields.ForeignKeyField('models.ContactList', source_field='contact_list_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='list_memberships', on_delete=OnDelete.CASCADE)),
                ('added_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contact_list_members', 'app': 'models', 'unique_together': (('contact_list', 'contact'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScheduledMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='scheduled_messages', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='scheduled_messages', on_delete=OnDelete.CASCADE)),
                ('connection', fields.ForeignKeyField('models.Connection', source_field='connection_id', db_constraint=True, to_field='id', related_name='scheduled_messages', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='scheduled_messages', on_delete=OnDelete.SET_NULL)),
                ('body', fields.TextField(default='', unique=False)),
                ('media_path', fields.CharField(null=True, max_length=500)),
                ('media_mime', fields.CharField(null=True, max_length=100)),
                ('media_name', fields.CharField(null=True, max_length=255)),
                ('send_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=ScheduledStatus.pending, description='pending: pending\nsent: sent\nfailed: failed\ncancelled: cancelled', enum_type=ScheduledStatus, max_length=10)),
                ('reason', fields.CharField(default='', max_length=300)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('message_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'scheduled_messages', 'app': 'models', 'indexes': [Index(fields=['status', 'send_at'])], 'pk_attr': 'id', 'table_description': 'A message an agent wrote now to go to a contact later.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Segment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='segments', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=120)),
                ('filters', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'segments', 'app': 'models', 'unique_together': (('company', 'name'),), 'pk_attr': 'id', 'table_description': 'A saved filter over contacts, turned into a contact list when a campaign starts.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Campaign',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='campaigns', on_delete=OnDelete.CASCADE)),
                ('connection', fields.ForeignKeyField('models.Connection', source_field='connection_id', db_constraint=True, to_field='id', related_name='campaigns', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=120)),
                ('status', fields.CharEnumField(default=CampaignStatus.draft, description='draft: draft\nscheduled: scheduled\nrunning: running\npaused: paused\nfinished: finished\ncancelled: cancelled', enum_type=CampaignStatus, max_length=10)),
                ('contact_list', fields.ForeignKeyField('models.ContactList', source_field='contact_list_id', null=True, db_constraint=True, to_field='id', related_name='campaigns', on_delete=OnDelete.SET_NULL)),
                ('segment', fields.ForeignKeyField('models.Segment', source_field='segment_id', null=True, db_constraint=True, to_field='id', related_name='campaigns', on_delete=OnDelete.SET_NULL)),
                ('variants', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('media_path', fields.CharField(null=True, max_length=500)),
                ('media_mime', fields.CharField(null=True, max_length=100)),
                ('media_name', fields.CharField(null=True, max_length=255)),
                ('confirmation_text', fields.TextField(null=True, unique=False)),
                ('scheduled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('timezone', fields.CharField(default='UTC', max_length=64)),
                ('window_start', fields.CharField(null=True, max_length=5)),
                ('window_end', fields.CharField(null=True, max_length=5)),
                ('window_weekdays', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('min_delay', fields.FloatField(default=20.0)),
                ('max_delay', fields.FloatField(default=60.0)),
                ('long_pause_every', fields.IntField(default=0)),
                ('long_pause', fields.FloatField(default=0.0)),
                ('hourly_cap', fields.IntField(null=True)),
                ('next_send_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_count', fields.IntField(default=0)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='campaigns', on_delete=OnDelete.SET_NULL)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'campaigns', 'app': 'models', 'indexes': [Index(fields=['status', 'next_send_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CampaignRecipient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='recipients', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='campaign_receipts', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=RecipientStatus.queued, description='queued: queued\nconfirming: confirming\nsent: sent\ndelivered: delivered\nread: read\nfailed: failed\nskipped: skipped', enum_type=RecipientStatus, max_length=10)),
                ('variant', fields.SmallIntField(null=True)),
                ('body', fields.TextField(default='', unique=False)),
                ('reason', fields.CharField(default='', max_length=300)),
                ('channel_message_id', fields.CharField(null=True, max_length=128)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'campaign_recipients', 'app': 'models', 'unique_together': (('campaign', 'contact'),), 'indexes': [Index(fields=['campaign_id', 'status', 'id']), Index(fields=['channel_message_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Contact',
            name='opted_out_reason',
            field=fields.CharField(default='', max_length=200),
        ),
    ]
