"""Every write of campaigns but the sends themselves (service.campaigns.runner does those).

Status changes are conditional updates (`WHERE status IN (...)`), so a pause, a cancel and
the runner's own moves never undo one another.

Cancelling decides the fate of who was not reached yet: their recipients become `skipped`
("cancelled"), so the statistics add up and nothing waits "queued" forever; a recipient
already asked for confirmation but not yet sent the main message is skipped the same way."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from service.audit.actions import record_change, snapshot
from service.auth.tokens import Principal
from service.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from service.campaigns.pacing import Pacing, SendWindow
from service.campaigns.schemas import (
    AUDIENCE_FIELDS,
    PACING_FIELDS,
    CampaignCreate,
    CampaignProgress,
    CampaignUpdate,
)
from service.campaigns.service import recipient_counts
from service.clock import utcnow
from service.connections.models import Connection
from service.errors import Conflict, InvalidFields
from service.events import CAMPAIGN_PROGRESS
from service.realtime.broker import Broker
from service.tenancy import get_owned, scoped
from service.variables import check_contact_variables

__all__ = [
    "ANSWER_WINDOW",
    "CampaignAnswer",
    "apply_receipt",
    "campaign_answered",
    "cancel_campaign",
    "confirm_reply",
    "create_campaign",
    "delete_campaign",
    "materialise",
    "pacing_of",
    "pause_campaign",
    "publish_progress",
    "resume_campaign",
    "set_media",
    "start_campaign",
    "update_campaign",
    "wall_time",
]

log = logging.getLogger("atende.campaigns")

_OBJECT_TYPE = "campaign"
_EDITABLE = (CampaignStatus.draft, CampaignStatus.scheduled)
_ADJUSTABLE = (CampaignStatus.running, CampaignStatus.paused)
_CANCELLABLE = (
    CampaignStatus.draft,
    CampaignStatus.scheduled,
    CampaignStatus.running,
    CampaignStatus.paused,
)
# Columns without NULL: a null in a request for them means their default.
_NOT_NULL = frozenset(
    {"timezone", "window_weekdays", "min_delay", "max_delay", "long_pause_every", "long_pause"}
)
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_BULK = 500
# Receipts only move a recipient forward: sent → delivered → read.
_BEHIND = {
    RecipientStatus.delivered: (RecipientStatus.sent,),
    RecipientStatus.read: (RecipientStatus.sent, RecipientStatus.delivered),
}
_RECEIPT_STATUS = {
    "delivered": RecipientStatus.delivered,
    "read": RecipientStatus.read,
    "played": RecipientStatus.read,
}
_PROGRESS_EVERY_SECONDS = 1.0

_last_progress: dict[int, datetime] = {}


# Pacing ------------------------------------------------------------------------------------


def pacing_of(campaign: Campaign) -> Pacing:
    """The campaign's throttling and window (ValueError when they do not make sense)."""
    window = None
    start, end = wall_time(campaign.window_start), wall_time(campaign.window_end)
    weekdays = frozenset(campaign.window_weekdays or range(7))
    # Weekdays without hours are still a window (whole days): the rule holds either way.
    if (start is not None and end is not None) or weekdays != frozenset(range(7)):
        window = SendWindow(
            start=start,
            end=end,
            timezone=campaign.timezone,
            weekdays=weekdays,
        )
    return Pacing(
        min_delay=campaign.min_delay,
        max_delay=campaign.max_delay,
        long_pause_every=campaign.long_pause_every,
        long_pause=campaign.long_pause,
        hourly_cap=campaign.hourly_cap,
        window=window,
    )


def _field_of(message: str) -> str:
    """The request field a pacing.py ValueError is about."""
    for needle, name in (
        ("window needs", "window_end"),
        ("weekdays", "window_weekdays"),
        ("timezone", "timezone"),
        ("delay", "max_delay"),
        ("long pause", "long_pause"),
        ("hourly cap", "hourly_cap"),
    ):
        if needle in message:
            return name
    return "body"


def _check_pacing(campaign: Campaign) -> None:
    if (campaign.window_start is None) != (campaign.window_end is None):
        missing = "window_end" if campaign.window_end is None else "window_start"
        raise InvalidFields({missing: "a window needs both its start and its end"})
    try:
        pacing_of(campaign)
    except ValueError as exc:
        raise InvalidFields({_field_of(str(exc)): str(exc)}) from exc


async def _check_templates(actor: Principal, given: dict[str, Any]) -> None:
    """The variants and confirmation use only known variables (422 naming the first other)."""
    templates = {f"variants.{i}": text for i, text in enumerate(given.get("variants") or [])}
    if given.get("confirmation_text"):
        templates["confirmation_text"] = given["confirmation_text"]
    await check_contact_variables(actor=actor, templates=templates)


async def _check_references(campaign: Campaign, given: dict[str, Any]) -> None:
    """The connection, list and segment must be the company's own (422 naming the field)."""
    from service.audiences.models import ContactList, Segment

    company_id: int = campaign.company_id  # type: ignore[attr-defined]
    checks: list[tuple[str, Any]] = [
        ("connection_id", Connection),
        ("contact_list_id", ContactList),
        ("segment_id", Segment),
    ]
    for name, model in checks:
        value = given.get(name)
        if value is not None and not await scoped(model, company_id).filter(id=value).exists():
            raise InvalidFields({name: "unknown id"})


def wall_time(value: str | None) -> time | None:
    """A window's local time of day, stored as "HH:MM" in the campaign's `timezone`."""
    return None if value is None else time.fromisoformat(value)


def _apply(campaign: Campaign, given: dict[str, Any]) -> None:
    for name, value in given.items():
        if name == "window_weekdays":
            value = value or []
        elif name in ("window_start", "window_end") and value is not None:
            value = value.strftime("%H:%M")
        setattr(campaign, name, value)


# Create, change, delete --------------------------------------------------------------------


async def create_campaign(*, actor: Principal, data: CampaignCreate) -> Campaign:
    """A draft campaign; nothing is sent before /start."""
    campaign = Campaign(company_id=actor.company_id, created_by_id=actor.user_id)
    given = {
        name: value
        for name, value in data.given().items()
        if value is not None or name not in _NOT_NULL  # null there means "the default"
    }
    _apply(campaign, given)
    _check_pacing(campaign)
    await _check_templates(actor, given)
    await _check_references(campaign, given)
    async with in_transaction():
        await campaign.save()
        await record_change(
            actor=actor,
            action="create",
            object_type=_OBJECT_TYPE,
            object_id=campaign.id,
            after=snapshot(campaign),
        )
    return campaign


async def update_campaign(
    *, actor: Principal, campaign: Campaign, data: CampaignUpdate, broker: Broker
) -> Campaign:
    """Change a draft or scheduled campaign freely; a running or paused one only in its name
    and pacing (409 otherwise). A scheduled campaign given a new audience is given its new
    recipients at once."""
    given = data.given()
    await _check_templates(actor, given)
    async with in_transaction():
        row = await get_owned(Campaign, actor.company_id, campaign.id, lock=True)
        before = snapshot(row)
        if row.status in _ADJUSTABLE:
            frozen = set(given) - PACING_FIELDS - {"name"}
            if frozen:
                raise Conflict(
                    "A running campaign may change only its name, pace and window",
                    fields={name: "cannot change once started" for name in sorted(frozen)},
                )
        elif row.status not in _EDITABLE:
            raise Conflict(f"A {row.status} campaign cannot be changed")
        if AUDIENCE_FIELDS & set(given):
            given.setdefault("contact_list_id", None)
            given.setdefault("segment_id", None)
        _apply(row, given)
        _check_pacing(row)
        await _check_references(row, given)
        await row.save()
        if row.status is CampaignStatus.scheduled and AUDIENCE_FIELDS & set(given):
            await CampaignRecipient.filter(campaign_id=row.id).delete()
            await materialise(row)
        await record_change(
            actor=actor,
            action="update",
            object_type=_OBJECT_TYPE,
            object_id=row.id,
            before=before,
            after=snapshot(row),
        )
    await publish_progress(broker, row, force=True)
    return row


async def delete_campaign(*, actor: Principal, campaign: Campaign) -> None:
    """Delete a campaign that is not sending (409 while running or paused: cancel it first)."""
    async with in_transaction():
        row = await get_owned(Campaign, actor.company_id, campaign.id, lock=True)
        if row.status in _ADJUSTABLE:
            raise Conflict("Cancel the campaign before deleting it")
        before = snapshot(row)
        await row.delete()
        await record_change(
            actor=actor,
            action="delete",
            object_type=_OBJECT_TYPE,
            object_id=campaign.id,
            before=before,
        )
    _last_progress.pop(campaign.id, None)


async def set_media(
    *, actor: Principal, campaign: Campaign, path: str | None, mime: str | None, name: str | None
) -> tuple[Campaign, str | None]:
    """Attach (or, with path None, remove) the campaign's file; returns the campaign and the
    path of the file it replaced, for the caller to delete."""
    async with in_transaction():
        row = await get_owned(Campaign, actor.company_id, campaign.id, lock=True)
        if row.status not in _EDITABLE:
            raise Conflict(f"A {row.status} campaign cannot change its file")
        previous = row.media_path
        row.media_path, row.media_mime, row.media_name = path, mime, name
        await row.save(update_fields=["media_path", "media_mime", "media_name", "updated_at"])
    return row, previous


# The audience ------------------------------------------------------------------------------


async def _audience_list_id(campaign: Campaign) -> int:
    segment_id: int | None = campaign.segment_id  # type: ignore[attr-defined]
    if segment_id is not None:
        # Imported here: service.audiences is written alongside and may not exist yet.
        from service.audiences.actions import materialise_segment  # type: ignore[attr-defined,unused-ignore]

        contact_list = await materialise_segment(
            company_id=campaign.company_id,  # type: ignore[attr-defined]
            segment_id=segment_id,
            name=f"{campaign.name} #{campaign.id}",
        )
        return int(contact_list.id)
    list_id: int | None = campaign.contact_list_id  # type: ignore[attr-defined]
    if list_id is None:
        raise Conflict(
            "The campaign's list or segment no longer exists",
            fields={"contact_list_id": "choose a list or a segment"},
        )
    return list_id


async def materialise(campaign: Campaign) -> int:
    """One recipient per contact of the campaign's list (or its segment, frozen now):
    opted-out contacts, groups and numbers that are not E.164 are recorded as `skipped` with
    the reason. Idempotent: the unique (campaign, contact) key drops the ones already there.
    Returns how many contacts the audience has."""
    from service.audiences.models import ContactListMember

    list_id = await _audience_list_id(campaign)
    members = await ContactListMember.filter(
        contact_list_id=list_id,
        contact__company_id=campaign.company_id,  # type: ignore[attr-defined]
    ).values("contact_id", "contact__number", "contact__is_group", "contact__opted_out")
    rows = []
    for member in members:
        status, reason = RecipientStatus.queued, ""
        if member["contact__opted_out"]:
            status, reason = RecipientStatus.skipped, "opted out"
        elif member["contact__is_group"]:
            status, reason = RecipientStatus.skipped, "a group"
        elif not _E164.match(member["contact__number"] or ""):
            status, reason = RecipientStatus.skipped, "invalid number"
        rows.append(
            CampaignRecipient(
                campaign_id=campaign.id,
                contact_id=member["contact_id"],
                status=status,
                reason=reason,
            )
        )
    if rows:
        await CampaignRecipient.bulk_create(rows, batch_size=_BULK, ignore_conflicts=True)
    return len(rows)


# Start, pause, resume, cancel --------------------------------------------------------------


async def start_campaign(
    *, actor: Principal, campaign: Campaign, now: datetime, broker: Broker
) -> Campaign:
    """Freeze the audience into recipients now; running at once, or scheduled when its
    scheduled_at is ahead. 409 unless a draft, or when the audience is empty."""
    async with in_transaction():
        row = await get_owned(Campaign, actor.company_id, campaign.id, lock=True)
        if row.status is not CampaignStatus.draft:
            raise Conflict(f"A {row.status} campaign cannot be started")
        _check_pacing(row)
        if not await materialise(row):
            raise Conflict("The campaign's audience has no contacts")
        if row.scheduled_at is not None and row.scheduled_at > now:
            row.status = CampaignStatus.scheduled
        else:
            row.status, row.started_at = CampaignStatus.running, now
        row.next_send_at = None
        await row.save()
        await record_change(
            actor=actor,
            action="start",
            object_type=_OBJECT_TYPE,
            object_id=row.id,
            after={"status": row.status},
        )
    await publish_progress(broker, row, now=now, force=True)
    return row


async def _move(
    *,
    actor: Principal,
    campaign: Campaign,
    allowed: tuple[CampaignStatus, ...],
    action: str,
    changes: dict[str, Any],
    broker: Broker,
) -> Campaign:
    async with in_transaction():
        row = await get_owned(Campaign, actor.company_id, campaign.id, lock=True)
        if row.status not in allowed:
            raise Conflict(f"A {row.status} campaign cannot be {action}")
        await Campaign.filter(id=row.id, status=row.status).update(**changes)
        if changes.get("status") is CampaignStatus.cancelled:
            await CampaignRecipient.filter(
                campaign_id=row.id,
                status__in=[RecipientStatus.queued, RecipientStatus.confirming],
            ).update(status=RecipientStatus.skipped, reason="cancelled")
        await record_change(
            actor=actor,
            action=action,
            object_type=_OBJECT_TYPE,
            object_id=row.id,
            before={"status": row.status},
            after={"status": changes["status"]},
        )
    row = await Campaign.get(id=row.id)
    await publish_progress(broker, row, force=True)
    return row


async def pause_campaign(*, actor: Principal, campaign: Campaign, broker: Broker) -> Campaign:
    return await _move(
        actor=actor,
        campaign=campaign,
        allowed=(CampaignStatus.running, CampaignStatus.scheduled),
        action="paused",
        changes={"status": CampaignStatus.paused},
        broker=broker,
    )


async def resume_campaign(
    *, actor: Principal, campaign: Campaign, now: datetime, broker: Broker
) -> Campaign:
    """Back to running (or scheduled, when its start is still ahead)."""
    ahead = campaign.scheduled_at is not None and campaign.scheduled_at > now
    changes: dict[str, Any] = {
        "status": CampaignStatus.scheduled if ahead else CampaignStatus.running
    }
    if not ahead and campaign.started_at is None:
        changes["started_at"] = now
    return await _move(
        actor=actor,
        campaign=campaign,
        allowed=(CampaignStatus.paused,),
        action="resumed",
        changes=changes,
        broker=broker,
    )


async def cancel_campaign(
    *, actor: Principal, campaign: Campaign, now: datetime, broker: Broker
) -> Campaign:
    return await _move(
        actor=actor,
        campaign=campaign,
        allowed=_CANCELLABLE,
        action="cancelled",
        changes={"status": CampaignStatus.cancelled, "finished_at": now},
        broker=broker,
    )


# What the channels report ------------------------------------------------------------------


async def confirm_reply(
    *,
    connection_id: int,
    contact_id: int,
    at: datetime | None = None,
    broker: Broker | None = None,
) -> bool:
    """The contact answered a campaign's confirmation question on this connection: their
    newest confirming recipient becomes sendable (the runner sends the main message at its
    next turn). A campaign that had finished meanwhile runs again for it. Returns whether a
    recipient was waiting for this reply."""
    now = at or utcnow()
    recipient = (
        await CampaignRecipient.filter(
            contact_id=contact_id,
            status=RecipientStatus.confirming,
            confirmed_at__isnull=True,
            channel_message_id__isnull=False,
            campaign__connection_id=connection_id,
            campaign__status__in=[
                CampaignStatus.running,
                CampaignStatus.paused,
                CampaignStatus.finished,
            ],
        )
        .order_by("-sent_at", "-id")
        .first()
    )
    if recipient is None:
        return False
    confirmed = await CampaignRecipient.filter(
        id=recipient.id, status=RecipientStatus.confirming, confirmed_at__isnull=True
    ).update(confirmed_at=now)
    if not confirmed:
        return False
    campaign_id: int = recipient.campaign_id  # type: ignore[attr-defined]
    await Campaign.filter(id=campaign_id, status=CampaignStatus.finished).update(
        status=CampaignStatus.running, finished_at=None
    )
    if broker is not None:
        campaign = await Campaign.get_or_none(id=campaign_id)
        if campaign is not None:
            await publish_progress(broker, campaign, now=now)
    return True


# How long after a campaign's message a customer's new conversation counts as its answer.
ANSWER_WINDOW = timedelta(days=7)
_WENT_OUT = (RecipientStatus.sent, RecipientStatus.delivered, RecipientStatus.read)


@dataclass(frozen=True, slots=True)
class CampaignAnswer:
    campaign_id: int | None  # the campaign the conversation answers, if any
    confirmed: bool  # it answered the campaign's confirmation question


async def campaign_answered(
    *, connection_id: int, contact_id: int, now: datetime
) -> CampaignAnswer:
    """What a customer's first message of a conversation answers: the newest campaign
    message sent to them on this connection in the last ANSWER_WINDOW (one query when
    none), and whether it confirms that campaign's question."""
    recipient = (
        await CampaignRecipient.filter(
            contact_id=contact_id,
            campaign__connection_id=connection_id,
            sent_at__gte=now - ANSWER_WINDOW,
        )
        .order_by("-sent_at", "-id")
        .first()
    )
    if recipient is None:
        return CampaignAnswer(campaign_id=None, confirmed=False)
    campaign_id: int = recipient.campaign_id  # type: ignore[attr-defined]
    if recipient.status is RecipientStatus.confirming:
        confirmed = await confirm_reply(connection_id=connection_id, contact_id=contact_id, at=now)
        return CampaignAnswer(campaign_id=campaign_id, confirmed=confirmed)
    if recipient.status in _WENT_OUT:
        return CampaignAnswer(campaign_id=campaign_id, confirmed=False)
    return CampaignAnswer(campaign_id=None, confirmed=False)


async def apply_receipt(
    *,
    connection_id: int,
    channel_message_id: str,
    status: str,
    at: datetime,
    broker: Broker | None = None,
) -> bool:
    """Move the campaign recipient a receipt names forward (sent → delivered → read, never
    back). Returns whether a recipient of a campaign on this connection has that id."""
    target = _RECEIPT_STATUS.get(status)
    recipient = await CampaignRecipient.filter(
        channel_message_id=channel_message_id, campaign__connection_id=connection_id
    ).first()
    if recipient is None:
        return False
    if target is None:
        return True
    changes: dict[str, Any] = {"status": target}
    if target is RecipientStatus.delivered:
        changes["delivered_at"] = at
    else:
        changes["read_at"] = at
        # A read message was delivered, even if that receipt never came.
        await CampaignRecipient.filter(
            id=recipient.id, delivered_at__isnull=True, status__in=_BEHIND[target]
        ).update(delivered_at=at)
    moved = await CampaignRecipient.filter(id=recipient.id, status__in=_BEHIND[target]).update(
        **changes
    )
    if moved and broker is not None:
        campaign = await Campaign.get_or_none(id=recipient.campaign_id)  # type: ignore[attr-defined]
        if campaign is not None:
            await publish_progress(broker, campaign, now=at)
    return True


# Progress events ---------------------------------------------------------------------------


def progress_event(campaign: Campaign, counts: dict[str, int]) -> dict[str, Any]:
    full = {status: counts.get(status.value, 0) for status in RecipientStatus}
    data = CampaignProgress(id=campaign.id, status=campaign.status, counts=full)
    audience = {"company_id": campaign.company_id, "roles": ["admin", "supervisor"]}  # type: ignore[attr-defined]
    return CAMPAIGN_PROGRESS.event(data, audience=audience)


async def publish_progress(
    broker: Broker, campaign: Campaign, *, now: datetime | None = None, force: bool = False
) -> bool:
    """`campaign.progress` to the company's admins and supervisors: at most one a second
    per campaign (in this process), except `force` (a change of status)."""
    last = _last_progress.get(campaign.id)
    if not force:
        moment = now or datetime.now(UTC)
        if last is not None and (moment - last).total_seconds() < _PROGRESS_EVERY_SECONDS:
            return False
        _last_progress[campaign.id] = moment
    elif now is not None:
        # A forced one without the clock's time leaves the throttle's stamp alone: the
        # machine's time beside the runner's clock would hold back the next progress.
        _last_progress[campaign.id] = now
    counts = (await recipient_counts([campaign.id])).get(campaign.id, {})
    try:
        await broker.publish(progress_event(campaign, counts))
    except Exception:
        # The change is committed; the page catches up on its next fetch.
        log.exception("could not publish the progress of campaign %s", campaign.id)
    return True
