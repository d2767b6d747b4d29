"""Every write of contacts: create, update, tags, merge and delete; each one audited.

The CSV import is in importing.py.

A change to one contact (update, tags) is told to the whole company as `contact.updated`
after it commits, so that open inboxes show the new name, fields and tags at once.

A WhatsApp group's contact is named by the group's subject, and follows it when it changes,
until a person names it: see `follow_group_subject`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audiences.models import ContactListMember
from service.audit.actions import record_change, snapshot
from service.audit.models import AuditLog
from service.auth.tokens import Principal
from service.campaigns.models import CampaignRecipient, ScheduledMessage
from service.contacts.models import Contact
from service.contacts.phones import INVALID_NUMBER, normalize_number
from service.contacts.schemas import MAX_CUSTOM_FIELDS, ContactCreate, ContactUpdate
from service.contacts.service import contact_out
from service.errors import Conflict, InvalidFields
from service.events import CONTACT_UPDATED
from service.realtime.broker import Broker
from service.realtime.events import EventBatch
from service.tags.models import Tag
from service.tenancy import get_owned, owned_ids, scoped
from service.tickets.models import ACTIVE_STATUSES, Ticket
from service.users.models import User

__all__ = [
    "contact_updated",
    "create_contact",
    "delete_contact",
    "follow_group_subject",
    "merge_contacts",
    "set_contact_tags",
    "set_opted_out",
    "update_contact",
]

OBJECT_TYPE = "contact"


def _conflict() -> Conflict:
    return Conflict(
        "A contact with this number already exists", fields={"number": "is already taken"}
    )


def _normalized(raw: str, default_country: str) -> str:
    try:
        return normalize_number(raw, default_country)
    except ValueError as exc:
        raise InvalidFields({"number": INVALID_NUMBER}) from exc


async def _check_number_free(*, company_id: int, number: str, exclude_id: int | None) -> None:
    query = scoped(Contact, company_id).filter(number=number)
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    if await query.exists():
        raise _conflict()


def _audit_view(contact: Contact, tag_ids: Iterable[int]) -> dict[str, Any]:
    return snapshot(contact, tag_ids=sorted(tag_ids))


async def _tag_ids(contact: Contact) -> set[int]:
    return {tag.id for tag in await contact.tags.all()}


def set_opted_out(
    contact: Contact, opted_out: bool, now: datetime, reason: str | None, default_reason: str
) -> bool:
    """The one opt-out rule (an agent's, the customer's keyword): the moment of opting out
    is kept while the contact stays out (a new reason may be given; a repeated "SAIR"
    changes nothing); opting back in clears both. Whether anything changed (unsaved)."""
    before = (contact.opted_out, contact.opted_out_at, contact.opted_out_reason)
    if opted_out and not contact.opted_out:
        contact.opted_out_at = now
        contact.opted_out_reason = reason or default_reason
    elif opted_out and reason is not None:
        contact.opted_out_reason = reason
    elif not opted_out:
        contact.opted_out_at = None
        contact.opted_out_reason = ""
    contact.opted_out = opted_out
    return before != (contact.opted_out, contact.opted_out_at, contact.opted_out_reason)


async def _agent_reason(actor: Principal) -> str:
    """Who opted a contact out, when no reason is given: "agent <name>"."""
    name = None
    if actor.user_id is not None:
        name = await User.filter(id=actor.user_id).first().values_list("name", flat=True)
    return f"agent {name}"[:200] if name else "agent"


async def _replace_tags(contact: Contact, current: set[int], wanted: list[Tag]) -> None:
    wanted_ids = {tag.id for tag in wanted}
    removed = await Tag.filter(id__in=current - wanted_ids)
    if removed:
        await contact.tags.remove(*removed)
    added = [tag for tag in wanted if tag.id not in current]
    if added:
        await contact.tags.add(*added)


async def contact_updated(contact: Contact, batch: EventBatch) -> None:
    """Add `contact.updated` (the contact as the API shows it) for every user of its company.

    Contacts are not tied to a queue: whoever may open one of its tickets may read it through
    the API, so the whole company is the audience."""
    data = await contact_out(contact)
    CONTACT_UPDATED.add(batch, data, audience={"company_id": contact.company_id})  # type: ignore[attr-defined]


async def follow_group_subject(
    *, company_id: int, group: str, subject: str, broker: Broker
) -> Contact | None:
    """The group's contact takes the group's WhatsApp subject as its name, unless a person
    chose its name (`_named_by_hand`); the company hears `contact.updated` after commit. The
    renamed contact, or None when nothing changed."""
    subject = subject.strip()[:200]
    if not subject:
        return None
    batch = EventBatch()
    async with in_transaction():
        contact = (
            await scoped(Contact, company_id)
            .filter(number=group, is_group=True)
            .select_for_update()
            .first()
        )
        if contact is None or contact.name == subject or await _named_by_hand(contact):
            return None
        contact.name = subject
        await contact.save(update_fields=["name", "updated_at"])
        await contact_updated(contact, batch)
    await batch.publish(broker)
    return contact


async def _named_by_hand(contact: Contact) -> bool:
    """Whether the contact's name is a person's choice rather than WhatsApp's. Every change a
    person makes is audited with the contact before and after, and only they are, so the
    latest audited change of the name says it; a name cleared (empty, or the group's id) is
    WhatsApp's again. Read only when a group's subject differs from its contact's name."""
    if contact.name in ("", contact.number):
        return False
    company_id: int = contact.company_id  # type: ignore[attr-defined]
    entries = (
        AuditLog.filter(company_id=company_id, object_type=OBJECT_TYPE, object_id=str(contact.id))
        .order_by("-id")
        .values_list("before", "after")
    )
    for before, after in await entries:
        name = (after or {}).get("name")
        if name is not None and (before is None or before.get("name") != name):
            return name not in ("", contact.number)
    return False


async def create_contact(
    *, actor: Principal, data: ContactCreate, default_country: str, now: datetime
) -> Contact:
    """A new contact; its number is normalized to E.164 (422) and unique in the company (409)."""
    number = _normalized(data.number, default_country)
    try:
        async with in_transaction():
            tags = await owned_ids(Tag, actor.company_id, data.tag_ids, field="tag_ids")
            await _check_number_free(company_id=actor.company_id, number=number, exclude_id=None)
            contact = await Contact.create(
                company_id=actor.company_id,
                number=number,
                name=data.name,
                email=data.email,
                custom_fields=data.custom_fields,
                opted_out=data.opted_out,
                opted_out_at=now if data.opted_out else None,
                opted_out_reason=(data.opted_out_reason or await _agent_reason(actor))
                if data.opted_out
                else "",
                language=data.language,
            )
            if tags:
                await contact.tags.add(*tags)
            await record_change(
                actor=actor,
                action="create",
                object_type=OBJECT_TYPE,
                object_id=contact.id,
                after=_audit_view(contact, (t.id for t in tags)),
            )
    except IntegrityError as exc:
        raise _conflict() from exc
    return contact


async def update_contact(
    *,
    actor: Principal,
    contact: Contact,
    data: ContactUpdate,
    default_country: str,
    now: datetime,
    broker: Broker | None = None,
) -> Contact:
    """Change the fields sent; `tag_ids` replaces the contact's tags. With a broker, the
    company hears `contact.updated` once the change is committed."""
    number = _normalized(data.number, default_country) if data.number is not None else None
    sent = data.model_fields_set
    batch = EventBatch()
    try:
        async with in_transaction():
            contact = await get_owned(Contact, actor.company_id, contact.id, lock=True)
            current_tags = await _tag_ids(contact)
            before = _audit_view(contact, current_tags)
            wanted_tags = None
            if data.tag_ids is not None:
                wanted_tags = await owned_ids(Tag, actor.company_id, data.tag_ids, field="tag_ids")
            if number is not None and number != contact.number:
                await _check_number_free(
                    company_id=actor.company_id, number=number, exclude_id=contact.id
                )
                contact.number = number
            if data.name is not None:
                contact.name = data.name
            if "email" in sent:
                contact.email = data.email
            if data.custom_fields is not None:
                contact.custom_fields = data.custom_fields
            if "language" in sent:
                contact.language = data.language
            if data.opted_out is not None:
                default_reason = await _agent_reason(actor) if data.opted_out else ""
                set_opted_out(contact, data.opted_out, now, data.opted_out_reason, default_reason)
            elif data.opted_out_reason is not None and contact.opted_out:
                contact.opted_out_reason = data.opted_out_reason
            await contact.save()
            tag_ids: Iterable[int] = current_tags
            if wanted_tags is not None:
                await _replace_tags(contact, current_tags, wanted_tags)
                tag_ids = (t.id for t in wanted_tags)
            await record_change(
                actor=actor,
                action="update",
                object_type=OBJECT_TYPE,
                object_id=contact.id,
                before=before,
                after=_audit_view(contact, tag_ids),
            )
            if broker is not None:
                await contact_updated(contact, batch)
    except IntegrityError as exc:
        raise _conflict() from exc
    if broker is not None:
        await batch.publish(broker)
    return contact


async def set_contact_tags(
    *, actor: Principal, contact: Contact, tag_ids: list[int], broker: Broker | None = None
) -> Contact:
    """Replace the contact's tags with these (ids of the company's tags, else 422); with a
    broker, the company hears `contact.updated` after commit."""
    batch = EventBatch()
    async with in_transaction():
        contact = await get_owned(Contact, actor.company_id, contact.id, lock=True)
        wanted = await owned_ids(Tag, actor.company_id, tag_ids, field="tag_ids")
        current = await _tag_ids(contact)
        await _replace_tags(contact, current, wanted)
        await record_change(
            actor=actor,
            action="update",
            object_type=OBJECT_TYPE,
            object_id=contact.id,
            before=_audit_view(contact, current),
            after=_audit_view(contact, (t.id for t in wanted)),
        )
        if broker is not None:
            await contact_updated(contact, batch)
    if broker is not None:
        await batch.publish(broker)
    return contact


async def delete_contact(*, actor: Principal, contact: Contact) -> None:
    """Delete a contact (with its tickets and messages)."""
    async with in_transaction():
        contact = await get_owned(Contact, actor.company_id, contact.id, lock=True)
        before = _audit_view(contact, await _tag_ids(contact))
        await contact.delete()
        await record_change(
            actor=actor,
            action="delete",
            object_type=OBJECT_TYPE,
            object_id=before["id"],
            before=before,
        )


# --- merge --------------------------------------------------------------------------------


async def _active_conflict(kept: Contact, other: Contact) -> None:
    """409 when both have a ticket in progress on one connection: after the merge one contact
    would have two, which the inbox (and a unique index) cannot hold."""
    rows = await Ticket.filter(
        contact_id__in=[kept.id, other.id], status__in=list(ACTIVE_STATUSES)
    ).values("contact_id", "connection_id", "connection__name", "id")
    by_connection: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_connection.setdefault(row["connection_id"], []).append(row)
    for tickets in by_connection.values():
        if len({t["contact_id"] for t in tickets}) > 1:
            ids = ", ".join(f"#{t['id']}" for t in sorted(tickets, key=lambda t: t["id"]))
            raise Conflict(
                f"Both contacts have an active ticket on the connection "
                f"“{tickets[0]['connection__name']}” ({ids}); close one of them first",
                fields={"other_id": "has an active ticket on the same connection"},
            )


async def _move_unique(model: Any, key: str, kept_id: int, other_id: int) -> None:
    """Give the other contact's rows of `model` to the kept one, except where the kept one
    already has a row with the same `key` (unique with the contact): those go with it."""
    taken = await model.filter(contact_id=kept_id).values_list(key, flat=True)
    await (
        model.filter(contact_id=other_id)
        .exclude(**{f"{key}__in": list(taken)})
        .update(contact_id=kept_id)
    )


def _merged_fields(kept: Contact, other: Contact) -> None:
    if not kept.name:
        kept.name = other.name
    if not kept.email:
        kept.email = other.email
    if not kept.language:
        kept.language = other.language
    fields = dict(kept.custom_fields or {})
    for key, value in (other.custom_fields or {}).items():
        if key not in fields and len(fields) < MAX_CUSTOM_FIELDS:
            fields[key] = value
    kept.custom_fields = fields
    # Whoever asked not to be messaged under either number stays opted out.
    if other.opted_out and not kept.opted_out:
        kept.opted_out = True
        kept.opted_out_at = other.opted_out_at
        kept.opted_out_reason = other.opted_out_reason


async def merge_contacts(
    *, actor: Principal, contact: Contact, other_id: int, broker: Broker | None = None
) -> Contact:
    """Fold the contact `other_id` into `contact`: its tickets (with their messages), tags,
    list memberships, campaign recipients, scheduled messages and the fields `contact`
    lacks move over (custom fields: `contact` wins; opted out if either was), then it is
    deleted. 404 for another
    company's contact; 422 for itself; 409 when both have an active ticket on one
    connection. Audited as an update of the kept one and a deletion of the other."""
    if other_id == contact.id:
        raise InvalidFields({"other_id": "is this contact; choose another one"})
    batch = EventBatch()
    async with in_transaction():
        first, second = sorted((contact.id, other_id))  # always lock in the same order
        locked = {
            first: await get_owned(Contact, actor.company_id, first, lock=True),
            second: await get_owned(Contact, actor.company_id, second, lock=True),
        }
        kept, other = locked[contact.id], locked[other_id]
        await _active_conflict(kept, other)
        kept_tags, other_tags = await _tag_ids(kept), await _tag_ids(other)
        before = _audit_view(kept, kept_tags)
        other_view = _audit_view(other, other_tags)
        await Ticket.filter(contact_id=other.id).update(contact_id=kept.id)
        await _move_unique(ContactListMember, "contact_list_id", kept.id, other.id)
        await _move_unique(CampaignRecipient, "campaign_id", kept.id, other.id)
        await ScheduledMessage.filter(contact_id=other.id).update(contact_id=kept.id)
        added = await Tag.filter(id__in=other_tags - kept_tags)
        if added:
            await kept.tags.add(*added)
        _merged_fields(kept, other)
        await other.delete()
        await kept.save()
        await record_change(
            actor=actor,
            action="update",
            object_type=OBJECT_TYPE,
            object_id=kept.id,
            before=before,
            after={**_audit_view(kept, kept_tags | other_tags), "merged_from": other.id},
        )
        await record_change(
            actor=actor,
            action="delete",
            object_type=OBJECT_TYPE,
            object_id=other_view["id"],
            before=other_view,
            after={"merged_into": kept.id},
        )
        if broker is not None:
            await contact_updated(kept, batch)
    if broker is not None:
        await batch.publish(broker)
    return kept
