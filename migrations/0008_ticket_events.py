from tortoise import migrations
from tortoise.migrations import operations as ops
from service.tickets.models import ActorKind, HistoryKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0007_ticket_accepted_at")]

    initial = False

    operations = [
        ops.CreateModel(
            name="TicketEvent",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "company",
                    fields.ForeignKeyField(
                        "models.Company",
                        source_field="company_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ticket_events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "models.Ticket",
                        source_field="ticket_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="history",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="created: created\nhanded_off: handed_off\naccepted: accepted\ntransferred: transferred\nclosed: closed\nreopened: reopened\nrating_expired: rating_expired\nrated: rated\nfallback: fallback",
                        enum_type=HistoryKind,
                        max_length=20,
                    ),
                ),
                (
                    "actor_kind",
                    fields.CharEnumField(
                        description="user: user\nbot: bot\ntimer: timer\ncustomer: customer\nsystem: system",
                        enum_type=ActorKind,
                        max_length=10,
                    ),
                ),
                (
                    "actor_user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_user_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="ticket_events",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("from_queue_id", fields.IntField(null=True)),
                ("to_queue_id", fields.IntField(null=True)),
                ("from_user_id", fields.IntField(null=True)),
                ("to_user_id", fields.IntField(null=True)),
                ("note", fields.TextField(default="", unique=False)),
                ("reason", fields.CharField(default="", max_length=40)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "ticket_events",
                "app": "models",
                "indexes": [Index(fields=["ticket_id", "id"]), Index(fields=["company_id", "at"])],
                "pk_attr": "id",
                "table_description": "One line of a ticket's history, written in the same transaction as the change.",
            },
            bases=["Model"],
        ),
    ]
