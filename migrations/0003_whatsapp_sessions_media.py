from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_active_ticket_unique')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Connection',
            name='pairing_code',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='Connection',
            name='pairing_phone',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Connection',
            name='qr_code',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Connection',
            name='status_detail',
            field=fields.CharField(default='', max_length=500),
        ),
        ops.AddField(
            model_name='Connection',
            name='wa_jid',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Contact',
            name='is_group',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Message',
            name='edited_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Message',
            name='media_mime',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Message',
            name='media_reference',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Message',
            name='media_size',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='revoked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
